import { verifySigV4 } from '../../../../test/support/fakes/sigv4-verifier';
import type { ModelDeployment } from '../../../config/gateway-config.types';
import { DeploymentTable, type CompiledDeployment } from '../../deployment-table';
import type { UpstreamRequest } from '../provider';
import { readBedrockError } from './bedrock-errors';
import { parseBedrockModel } from './model-id';

const KEYS = { aws_access_key_id: 'AKIAUNITTEST00000001', aws_secret_access_key: 'unit+secret/abcdefghijklmnopqrstuvwxyz01', aws_region_name: 'us-east-1' };
const SONNET = 'anthropic.claude-3-5-sonnet-20240620-v1:0';

function entry(params: Record<string, unknown>, name = 'claude'): ModelDeployment {
  return { model_name: name, litellm_params: params as ModelDeployment['litellm_params'], model_info: {} };
}

describe('bedrock provider', () => {
  const tables: DeploymentTable[] = [];
  const compile = (params: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, warnings: string[] = []): CompiledDeployment => {
    const table = new DeploymentTable([entry(params)], { env, pools: false, onWarning: (w) => warnings.push(w) });
    tables.push(table);
    return table.group('claude')!.deployments[0];
  };
  const problems = (params: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string => {
    try {
      DeploymentTable.check([entry(params)], env);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected a start-up problem');
  };
  const request = async (d: CompiledDeployment, body: Record<string, unknown>, options: { stream?: boolean; endpoint?: 'chat' | 'embeddings' } = {}): Promise<UpstreamRequest> =>
    d.target!.request({ endpoint: options.endpoint ?? 'chat', stream: options.stream ?? false, body, upstreamModel: d.upstreamModel, callId: 'call-1' });
  afterAll(async () => Promise.all(tables.map((t) => t.close())));

  it('compiles bedrock/converse/<id>: the route marker dropped for the log and the price, the default regional endpoint', () => {
    const d = compile({ model: `bedrock/converse/${SONNET}`, ...KEYS });
    expect(d.providerLabel).toBe('bedrock');
    expect(d.upstreamModel).toBe(SONNET);
    expect(d.apiBaseForLog).toBe('https://bedrock-runtime.us-east-1.amazonaws.com');
    expect(d.target!.origin).toBe('https://bedrock-runtime.us-east-1.amazonaws.com');
    expect(d.inputCostPerToken).toBeCloseTo(3 / 1e6, 12);
    expect(d.outputCostPerToken).toBeCloseTo(15 / 1e6, 12);
    expect([...d.target!.endpoints]).toEqual(['chat']);
  });

  it('prices cross-region profiles as their region, and the global profile of Claude 4.5 below it', () => {
    expect(compile({ model: 'bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0', ...KEYS }).inputCostPerToken).toBeCloseTo(3.3 / 1e6, 12);
    expect(compile({ model: 'bedrock/global.anthropic.claude-sonnet-4-5-20250929-v1:0', ...KEYS }).inputCostPerToken).toBeCloseTo(3 / 1e6, 12);
    const titan = compile({ model: 'bedrock/amazon.titan-embed-text-v2:0', ...KEYS });
    expect([...titan.target!.endpoints]).toEqual(['embeddings']);
    expect(titan.inputCostPerToken).toBeCloseTo(0.02 / 1e6, 12);
  });

  it('signs each call with SigV4 over the path as sent: `:` is %3A in the path and verifies double-encoded', async () => {
    const d = compile({ model: `bedrock/${SONNET}`, ...KEYS, aws_session_token: 'session/token+value=' });
    const first = await request(d, { messages: [{ role: 'user', content: 'hi' }] });
    expect(first.path).toBe('/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse');
    expect(first.headers.host).toBe('bedrock-runtime.us-east-1.amazonaws.com');
    expect(first.headers['x-amz-security-token']).toBe('session/token+value=');
    expect(first.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAUNITTEST00000001\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
    const credentials = [{ accessKeyId: KEYS.aws_access_key_id, secretAccessKey: KEYS.aws_secret_access_key, sessionToken: 'session/token+value=' }];
    const verify = (req: UpstreamRequest, url = req.path) =>
      verifySigV4({ method: 'POST', url, headers: req.headers, body: Buffer.from(req.body), region: 'us-east-1', service: 'bedrock', credentials });
    expect(verify(first).ok).toBe(true);
    // The verifier is not lenient: the same signature does not hold for the path with a raw colon, nor for another body.
    expect(verify(first, '/model/anthropic.claude-3-5-sonnet-20240620-v1:0/converse').ok).toBe(false);
    expect(verify({ ...first, body: '{}' }).ok).toBe(false);
    const second = await request(d, { messages: [{ role: 'user', content: 'hello' }] }, { stream: true });
    expect(second.path).toBe('/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream');
    expect(second.headers.accept).toBe('application/vnd.amazon.eventstream');
    expect(second.headers['x-amz-content-sha256']).not.toBe(first.headers['x-amz-content-sha256']);
    expect(verify(second).ok).toBe(true);
  });

  it('encodes an ARN model id as one path segment and takes its region when none is configured', async () => {
    const arn = 'arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-3-5-sonnet-20240620-v1:0';
    const d = compile({ model: `bedrock/${arn}`, aws_access_key_id: KEYS.aws_access_key_id, aws_secret_access_key: KEYS.aws_secret_access_key });
    expect(d.target!.origin).toBe('https://bedrock-runtime.eu-west-1.amazonaws.com');
    const req = await request(d, { messages: [{ role: 'user', content: 'hi' }] });
    expect(req.path).toBe(`/model/${encodeURIComponent(arn)}/converse`);
    expect(parseBedrockModel(arn).family).toBe(SONNET);
  });

  it("calls LiteLLM's model_id (a provisioned-throughput ARN) while logging and pricing the model it names", async () => {
    const arn = 'arn:aws:bedrock:us-west-2:123456789012:provisioned-model/abc123xyz';
    const d = compile({ model: `bedrock/${SONNET}`, model_id: arn, aws_access_key_id: KEYS.aws_access_key_id, aws_secret_access_key: KEYS.aws_secret_access_key });
    expect(d.upstreamModel).toBe(SONNET);
    expect(d.inputCostPerToken).toBeCloseTo(3 / 1e6, 12);
    expect(d.target!.origin).toBe('https://bedrock-runtime.us-west-2.amazonaws.com');
    expect((await request(d, { messages: [{ role: 'user', content: 'hi' }] })).path).toBe(`/model/${encodeURIComponent(arn)}/converse`);
  });

  it('reads the standard AWS environment, aws_bedrock_runtime_endpoint (with a base path) and extra_headers', async () => {
    const env = { AWS_ACCESS_KEY_ID: 'AKIAFROMENV000000001', AWS_SECRET_ACCESS_KEY: 'env-secret', AWS_SESSION_TOKEN: 'env-token', AWS_DEFAULT_REGION: 'eu-central-1' };
    const d = compile({ model: `bedrock/${SONNET}`, aws_bedrock_runtime_endpoint: 'http://127.0.0.1:4566/proxy', extra_headers: { 'X-Team': 'a' } }, env);
    expect(d.apiBaseForLog).toBe('http://127.0.0.1:4566/proxy');
    const req = await request(d, { messages: [{ role: 'user', content: 'hi' }] });
    expect(req.path).toBe('/proxy/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse');
    expect(req.headers.authorization).toContain('Credential=AKIAFROMENV000000001/');
    expect(req.headers.authorization).toContain('/eu-central-1/bedrock/aws4_request');
    expect(req.headers['x-amz-security-token']).toBe('env-token');
    expect(req.headers['x-team']).toBe('a');
    // Keys in the config are never paired with the environment's session token (another identity's).
    const fromConfig = await request(compile({ model: `bedrock/${SONNET}`, ...KEYS }, env), { messages: [{ role: 'user', content: 'hi' }] });
    expect(fromConfig.headers['x-amz-security-token']).toBeUndefined();
  });

  it('sends a Bedrock API key (api_key or AWS_BEARER_TOKEN_BEDROCK) as a bearer token, unsigned', async () => {
    const d = compile({ model: `bedrock/${SONNET}`, aws_region_name: 'us-west-2' }, { AWS_BEARER_TOKEN_BEDROCK: 'bedrock-api-key-1' });
    const req = await request(d, { messages: [{ role: 'user', content: 'hi' }] });
    expect(req.headers.authorization).toBe('Bearer bedrock-api-key-1');
    expect(req.headers['x-amz-date']).toBeUndefined();
  });

  it('stops start-up naming the deployment and the settings: no region, no credentials, half a key pair, roles and profiles', () => {
    expect(problems({ model: `bedrock/${SONNET}`, aws_access_key_id: 'a', aws_secret_access_key: 'b' })).toContain(
      'model_list[0] (claude): the AWS region is missing: set litellm_params.aws_region_name or the environment variable AWS_REGION_NAME / AWS_REGION / AWS_DEFAULT_REGION',
    );
    expect(problems({ model: `bedrock/${SONNET}`, aws_region_name: 'us-east-1' })).toContain(
      'model_list[0] (claude): the AWS credentials are missing: set litellm_params.aws_access_key_id and aws_secret_access_key (or the environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)',
    );
    expect(problems({ model: `bedrock/${SONNET}`, aws_region_name: 'us-east-1', aws_access_key_id: 'a' })).toContain(
      'the AWS credentials are incomplete: litellm_params.aws_secret_access_key is missing',
    );
    expect(problems({ model: `bedrock/${SONNET}`, aws_region_name: 'us-east-1' }, { AWS_ACCESS_KEY_ID: 'a' })).toContain('the environment variable AWS_SECRET_ACCESS_KEY is not set');
    const roles = problems({ model: `bedrock/${SONNET}`, aws_region_name: 'us-east-1', aws_role_name: 'arn:aws:iam::1:role/x', aws_profile_name: 'dev' });
    expect(roles).toContain('litellm_params.aws_role_name is not supported: Gatehouse does not assume roles or read AWS profiles');
    expect(roles).toContain('litellm_params.aws_profile_name is not supported');
    expect(problems({ model: `bedrock/${SONNET}`, ...KEYS, aws_region_name: 'US East' })).toContain('the AWS region is not a region name');
    expect(problems({ model: `bedrock/${SONNET}`, ...KEYS, aws_secret_access_key: 'os.environ/NOPE' })).toContain(
      'litellm_params.aws_secret_access_key refers to the environment variable NOPE, which is not set',
    );
  });

  it('builds InvokeModel bodies per embedding family; Titan takes one text per call', async () => {
    const titan = compile({ model: 'bedrock/amazon.titan-embed-text-v2:0', ...KEYS });
    const one = await request(titan, { input: ['only one'], dimensions: 512, normalize: false }, { endpoint: 'embeddings' });
    expect(one.path).toBe('/model/amazon.titan-embed-text-v2%3A0/invoke');
    expect(JSON.parse(one.body as string)).toEqual({ inputText: 'only one', dimensions: 512, normalize: false });
    await expect(request(titan, { input: ['a', 'b'] }, { endpoint: 'embeddings' })).rejects.toMatchObject({ status: 400, param: 'input' });
    await expect(request(titan, { input: [1, 2, 3] }, { endpoint: 'embeddings' })).rejects.toMatchObject({ status: 400, param: 'input' });
    const cohere = compile({ model: 'bedrock/cohere.embed-multilingual-v3', ...KEYS });
    const batch = await request(cohere, { input: ['a', 'b'], input_type: 'search_query', dimensions: 256 }, { endpoint: 'embeddings' });
    expect(JSON.parse(batch.body as string)).toEqual({ texts: ['a', 'b'], input_type: 'search_query', output_dimension: 256 });
  });

  it('refuses what Converse cannot express with a 400 before any call', async () => {
    const d = compile({ model: `bedrock/${SONNET}`, ...KEYS });
    const image = { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] };
    await expect(request(d, image)).rejects.toMatchObject({ status: 400, code: 'validation_failed', param: 'messages[0].content[0].image_url.url' });
  });

  it('reads Bedrock errors by x-amzn-errortype, keeping only the first paragraph of the message', () => {
    const read = (type: string, message: string) => readBedrockError({ status: 400, headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` }, body: JSON.stringify({ message }) });
    expect(read('ThrottlingException', 'Too many requests')).toEqual({ status: 429, message: 'ThrottlingException: Too many requests' });
    expect(read('ValidationException', 'bad').status).toBe(400);
    expect(read('ModelNotReadyException', 'loading').status).toBe(503);
    expect(read('ModelTimeoutException', 'slow').status).toBe(504);
    expect(read('ResourceNotFoundException', 'no such model').status).toBe(404);
    expect(read('InvalidSignatureException', "The signature does not match.\n\nThe Canonical String for this request should have been\n'x-amz-security-token:SECRET'")).toEqual({
      status: 403,
      message: 'InvalidSignatureException: The signature does not match.',
    });
    expect(readBedrockError({ status: 500, headers: {}, body: '{"__type":"com.amazon.coral#InternalServerException","Message":"boom"}' })).toEqual({
      status: 500,
      message: 'InternalServerException: boom',
    });
  });
});
