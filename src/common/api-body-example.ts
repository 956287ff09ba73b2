import { applyDecorators, type Type } from '@nestjs/common';
import { ApiBody, ApiExtraModels, getSchemaPath } from '@nestjs/swagger';

/**
 * Documents a JSON body by its DTO and gives Swagger UI the body "Try it out" starts from. Without an explicit
 * example Swagger UI builds one from every property of the schema, picking each enum's first value — for
 * `/key/generate` that was `"role": "proxy_admin"`, so one click on "Execute" minted an admin key. Examples passed
 * here are the seed's or harmless, and never grant a role.
 */
export function ApiJsonBody(type: Type<unknown>, example: Record<string, unknown>, summary = 'Example'): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(type),
    ApiBody({ required: true, schema: { $ref: getSchemaPath(type) }, examples: { example: { summary, value: example } } }),
  );
}
