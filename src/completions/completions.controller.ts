import { applyDecorators, Controller, Delete, Get, HttpCode, Param, Post, Req, Res, UseInterceptors } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Access, CurrentPrincipal } from '../keys/auth.decorators';
import type { Principal } from '../keys/principal';
import { CompletionLoggingInterceptor } from '../logging/request/completion-logging.interceptor';
import { azureStyleTarget } from './azure-style-route';
import type { TrackedRequest } from './call-tracker';
import { CompletionsService, type ModelListResponse } from './completions.service';
import { ResponsesService } from './responses-api/responses.service';

type LlmRequest = Request & TrackedRequest;

/** `/openai/deployments/{deployment}/...`; the wildcard lets a deployment name hold slashes (`openai/gpt-4o`), as LiteLLM's `{model:path}` does. */
const AZURE_ROUTE = (operation: string): string => `openai/deployments/*deployment/${operation}`;

const AzureStyleParameters = (): MethodDecorator =>
  applyDecorators(
    ApiParam({ name: 'deployment', description: 'The model name (`model_name` in the config)', example: 'fake-openai-endpoint' }),
    ApiQuery({ name: 'api-version', required: false, description: 'Accepted as Azure clients send it (e.g. 2024-10-21); not used', example: '2024-10-21' }),
  );

const TEXT_COMPLETION_BODY = {
  type: 'object',
  required: ['model', 'prompt'],
  properties: {
    model: { type: 'string' },
    prompt: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    stream: { type: 'boolean' },
    max_tokens: { type: 'integer' },
  },
  additionalProperties: true,
  example: { model: 'fake-openai-endpoint', prompt: 'Say hello' },
};

/**
 * OpenAI-compatible routes. The LLM calls take the raw request and response: the body stays the parsed
 * plain object (no DTO or validation pipe on the hot path) and answers are written as they arrive.
 */
@ApiTags('LLM (OpenAI-compatible)')
@Access('any_key')
@Controller()
export class CompletionsController {
  constructor(
    private readonly completions: CompletionsService,
    private readonly responsesApi: ResponsesService,
  ) {}

  @Post(['v1/chat/completions', 'chat/completions'])
  @HttpCode(200)
  @UseInterceptors(CompletionLoggingInterceptor)
  @ApiOperation({
    summary: 'Chat completion, streamed (`"stream": true`, server-sent events) or not',
    description: 'Routed by `model` to the `model_list` deployments; unknown OpenAI parameters are passed through.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['model', 'messages'],
      properties: {
        model: { type: 'string' },
        messages: { type: 'array', items: { type: 'object' } },
        stream: { type: 'boolean' },
        cache: {
          type: 'object',
          description: 'Response cache controls (LiteLLM): `no-cache`, `no-store`, `ttl`, `s-maxage`, `namespace`; never sent upstream',
          example: { 'no-cache': true },
        },
      },
      additionalProperties: true,
      example: { model: 'fake-openai-endpoint', messages: [{ role: 'user', content: 'Hello' }] },
    },
  })
  chatCompletions(@Req() req: LlmRequest, @Res() res: Response): Promise<void> {
    return this.completions.chat(req, res, req.path);
  }

  @Post(['v1/messages', 'messages'])
  @HttpCode(200)
  @UseInterceptors(CompletionLoggingInterceptor)
  @ApiTags('LLM (Anthropic-compatible)')
  @ApiOperation({
    summary: "Anthropic's Messages API, streamed or not (what Claude Code and Anthropic's SDKs call)",
    description:
      'The key as `x-api-key` or `Authorization: Bearer`. Sent unchanged to an `anthropic/` deployment; translated to and from chat for any other. Errors in Anthropic\'s `{"type": "error", "error": {...}}`.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['model', 'messages', 'max_tokens'],
      additionalProperties: true,
      example: { model: 'claude-sonnet', max_tokens: 256, messages: [{ role: 'user', content: 'Hello' }] },
    },
  })
  messages(@Req() req: LlmRequest, @Res() res: Response): Promise<void> {
    return this.completions.messages(req, res, req.path);
  }

  @Post(['v1/messages/count_tokens', 'messages/count_tokens'])
  @HttpCode(200)
  @ApiTags('LLM (Anthropic-compatible)')
  @ApiOperation({
    summary: "Anthropic's token count for a Messages request (Claude Code's context meter)",
    description:
      'Counted by Anthropic for an `anthropic/` deployment; estimated from the characters for any other. Not a model call: not logged, costs nothing.',
  })
  @ApiBody({ schema: { type: 'object', required: ['model', 'messages'], additionalProperties: true, example: { model: 'claude-sonnet', messages: [{ role: 'user', content: 'Hello' }] } } })
  @ApiOkResponse({ schema: { example: { input_tokens: 14 } } })
  countTokens(@Req() req: LlmRequest): Promise<Record<string, unknown>> {
    return this.completions.countTokens(req);
  }

  // `openai/responses`: where AzureOpenAI clients send it (the deployment is the body's `model`, api-version unused).
  @Post(['v1/responses', 'responses', 'openai/responses'])
  @HttpCode(200)
  @UseInterceptors(CompletionLoggingInterceptor)
  @ApiOperation({
    summary: "OpenAI's Responses API, streamed or not",
    description:
      'Sent as it came to an `openai/` or `azure/` deployment (which keeps the response: see GET and DELETE); translated to and from chat for any other (text, images, function tools, streaming). Built-in tools and stored state need an OpenAI or Azure deployment.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['model', 'input'],
      additionalProperties: true,
      example: { model: 'fake-openai-endpoint', input: 'Hello' },
    },
  })
  responses(@Req() req: LlmRequest, @Res() res: Response): Promise<void> {
    return this.responsesApi.create(req, res, req.path);
  }

  @Get(['v1/responses/:id', 'responses/:id', 'openai/responses/:id'])
  @ApiOperation({ summary: 'A response an OpenAI or Azure deployment keeps, for the key (or team) that made it through this gateway' })
  @ApiParam({ name: 'id', example: 'resp_123' })
  retrieveResponse(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Res() res: Response): Promise<void> {
    return this.responsesApi.stored(principal, id, 'GET', res);
  }

  @Delete(['v1/responses/:id', 'responses/:id', 'openai/responses/:id'])
  @ApiOperation({ summary: 'Deletes a response an OpenAI or Azure deployment keeps, for the key (or team) that made it through this gateway' })
  @ApiParam({ name: 'id', example: 'resp_123' })
  deleteResponse(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Res() res: Response): Promise<void> {
    return this.responsesApi.stored(principal, id, 'DELETE', res);
  }

  @Post(['v1/embeddings', 'embeddings'])
  @HttpCode(200)
  @UseInterceptors(CompletionLoggingInterceptor)
  @ApiOperation({ summary: 'Embeddings for a string or a list of strings' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['model', 'input'],
      additionalProperties: true,
      example: { model: 'text-embedding-3-small', input: 'Hello' },
    },
  })
  embeddings(@Req() req: LlmRequest, @Res() res: Response): Promise<void> {
    return this.completions.embeddings(req, res, req.path);
  }

  @Post(['v1/completions', 'completions'])
  @HttpCode(200)
  @UseInterceptors(CompletionLoggingInterceptor)
  @ApiOperation({
    summary: 'Legacy text completion (`prompt` in, `text_completion` out), streamed or not',
    description:
      'Relayed to deployments whose upstream has `/v1/completions` (`text-completion-openai/`, `openai/`, vLLM, ...); other chat deployments answer through chat, the prompt as user messages.',
  })
  @ApiBody({ schema: TEXT_COMPLETION_BODY })
  textCompletions(@Req() req: LlmRequest, @Res() res: Response): Promise<void> {
    return this.completions.textCompletions(req, res, req.path);
  }

  @Post(AZURE_ROUTE('chat/completions'))
  @HttpCode(200)
  @UseInterceptors(CompletionLoggingInterceptor)
  @ApiOperation({ summary: 'Chat completion, Azure OpenAI style (AzureOpenAI clients): the deployment is the model' })
  @AzureStyleParameters()
  @ApiBody({ schema: { type: 'object', required: ['messages'], additionalProperties: true, example: { messages: [{ role: 'user', content: 'Hello' }] } } })
  azureChatCompletions(@Req() req: LlmRequest, @Res() res: Response): Promise<void> {
    return this.completions.chat(req, res, req.path, undefined, azureStyleTarget(req.params.deployment, req.query['api-version']));
  }

  @Post(AZURE_ROUTE('embeddings'))
  @HttpCode(200)
  @UseInterceptors(CompletionLoggingInterceptor)
  @ApiOperation({ summary: 'Embeddings, Azure OpenAI style: the deployment is the model' })
  @AzureStyleParameters()
  @ApiBody({ schema: { type: 'object', required: ['input'], additionalProperties: true, example: { input: 'Hello' } } })
  azureEmbeddings(@Req() req: LlmRequest, @Res() res: Response): Promise<void> {
    return this.completions.embeddings(req, res, req.path, azureStyleTarget(req.params.deployment, req.query['api-version']));
  }

  @Post(AZURE_ROUTE('completions'))
  @HttpCode(200)
  @UseInterceptors(CompletionLoggingInterceptor)
  @ApiOperation({ summary: 'Legacy text completion, Azure OpenAI style: the deployment is the model' })
  @AzureStyleParameters()
  @ApiBody({ schema: { ...TEXT_COMPLETION_BODY, required: ['prompt'], example: { prompt: 'Say hello' } } })
  azureTextCompletions(@Req() req: LlmRequest, @Res() res: Response): Promise<void> {
    return this.completions.textCompletions(req, res, req.path, azureStyleTarget(req.params.deployment, req.query['api-version']));
  }

  @Get(['v1/models', 'models'])
  @ApiOperation({ summary: 'The model names this key may use' })
  @ApiOkResponse({ schema: { example: { object: 'list', data: [{ id: 'gpt-4', object: 'model', created: 0, owned_by: 'gatehouse' }] } } })
  listModels(@CurrentPrincipal() principal: Principal): ModelListResponse {
    return this.completions.listModels(principal);
  }

  @Get(['v1/models/:model', 'models/:model'])
  @ApiOperation({ summary: 'One model, if this key may use it' })
  retrieveModel(@CurrentPrincipal() principal: Principal, @Param('model') model: string): ModelListResponse['data'][number] {
    return this.completions.retrieveModel(principal, model);
  }
}
