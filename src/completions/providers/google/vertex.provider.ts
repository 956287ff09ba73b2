import type { DeploymentSource } from '../deployment-source';
import type { Endpoint, Provider, ProviderCall, ProviderDeployment, UpstreamRequest } from '../provider';
import { parseBaseUrl, withExtraHeaders, type BaseUrl } from '../provider-support';
import { readGoogleError } from './google-errors';
import { googleRequestBody, googleTranslation, readGoogleDefaults } from './google-translation';
import { modelPaths, pathFor, type ModelPaths } from './model-paths';
import { readVertexCredentials } from './vertex-credentials';

/** LiteLLM's default region. */
export const DEFAULT_VERTEX_LOCATION = 'us-central1';
const BOTH: ReadonlySet<Endpoint> = new Set(['chat', 'embeddings']);

/**
 * Gemini on Vertex AI (`vertex_ai/<model>`, also LiteLLM's `vertex_ai_beta/`):
 * `https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/publishers/google/models/{model}`
 * (`global` has no region in its host) with `:generateContent`, `:streamGenerateContent?alt=sse` and, for
 * embedding models, `:predict`. A configured `api_base` is the model's whole URL, to which the method is appended
 * (LiteLLM's reading, for proxies in front of Vertex). Authenticated with an OAuth2 token (`Authorization: Bearer`):
 * a service account's or a gcloud user's from the credential's own `token_uri`, or — with no key configured —
 * Application Default Credentials (gcloud's ADC file, else the metadata server); fetched on first use and cached.
 */
export const vertexProvider: Provider = {
  name: 'vertex_ai',
  prefixes: ['vertex_ai', 'vertex_ai_beta'],
  settings: [
    'vertex_project',
    'vertex_ai_project',
    'vertex_location',
    'vertex_ai_location',
    'vertex_credentials',
    'vertex_ai_credentials',
    'api_base',
    'extra_headers',
    'safety_settings',
    'top_k',
  ],
  servesAnyModel: true,
  compile(source: DeploymentSource): ProviderDeployment {
    const credentials = readVertexCredentials(source);
    const location = readLocation(source);
    const configuredBase = source.string('api_base');
    const project = source.string('vertex_project') ?? source.string('vertex_ai_project', ['VERTEXAI_PROJECT', 'VERTEX_PROJECT']) ?? credentials?.projectId;
    let base: BaseUrl | null;
    let modelPath: string;
    // Null when `api_base` is the model's whole URL: then every call goes there, whatever model it names.
    let modelPathOf: ((model: string) => string) | null = null;
    if (configuredBase !== undefined) {
      base = parseBaseUrl(source, 'api_base', configuredBase);
      modelPath = base?.path ?? '';
    } else {
      if (project === undefined) {
        // Without a credential (a problem of its own) there is nothing to say where else a project could come from.
        const hint = credentials?.projectHint ?? '';
        source.problem(`the Google Cloud project is missing: set litellm_params.vertex_project or the environment variable VERTEXAI_PROJECT / VERTEX_PROJECT${hint}`);
      }
      base = { origin: location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`, path: '', search: '' };
      const prefix = `/${['v1', 'projects', project ?? '', 'locations', location, 'publishers', 'google', 'models'].map(encodeURIComponent).join('/')}`;
      modelPathOf = (model) => `${prefix}/${encodeURIComponent(model)}`;
      modelPath = modelPathOf(source.upstreamModel);
    }
    const paths = modelPaths(modelPath, base?.search ?? '', 'predict');
    // A wildcard deployment serves other models than the one compiled: their paths are made per call.
    const pathsFor = (call: ProviderCall): ModelPaths =>
      modelPathOf === null || call.upstreamModel === source.upstreamModel ? paths : modelPaths(modelPathOf(call.upstreamModel), base?.search ?? '', 'predict');
    const headers = withExtraHeaders(source, { 'content-type': 'application/json', accept: 'application/json' });
    const defaults = readGoogleDefaults(source);

    const requestWith = (call: ProviderCall, body: string, token: string): UpstreamRequest => ({
      path: pathFor(pathsFor(call), call),
      headers: { ...headers, authorization: `Bearer ${token}` },
      body,
    });
    return {
      origin: base?.origin ?? 'http://invalid',
      apiBaseForLog: (base?.origin ?? '') + (configuredBase !== undefined ? modelPath : ''),
      endpoints: BOTH,
      translation: googleTranslation('vertex'),
      readError: readGoogleError,
      request(call: ProviderCall): UpstreamRequest | Promise<UpstreamRequest> {
        // The body first: a request Google cannot be given is the caller's 400, whatever the token endpoint says.
        const body = googleRequestBody('vertex', call, defaults);
        // Compiled only without problems, so the credential is there.
        const token = credentials!.tokens.get();
        return typeof token === 'string' ? requestWith(call, body, token) : token.then((value) => requestWith(call, body, value));
      },
    };
  },
};

/** `vertex_location` (or `vertex_ai_location`, VERTEXAI_LOCATION, VERTEX_LOCATION), else us-central1; it becomes part of a host name. */
function readLocation(source: DeploymentSource): string {
  const location = source.string('vertex_location') ?? source.string('vertex_ai_location', ['VERTEXAI_LOCATION', 'VERTEX_LOCATION']) ?? DEFAULT_VERTEX_LOCATION;
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(location)) {
    source.problem('litellm_params.vertex_location must be a Google Cloud region such as us-central1, or global');
    return DEFAULT_VERTEX_LOCATION;
  }
  return location;
}
