import { AppException } from '../../../errors';

/**
 * The fields of Google's `Schema` (a subset of OpenAPI 3.0). Google refuses a request naming any other field
 * ("Invalid JSON payload received. Unknown name ..."), so a JSON Schema written for OpenAI — `additionalProperties`,
 * `strict`, `$schema`, `$defs` — is cut down to these, as LiteLLM does.
 */
const SCHEMA_FIELDS = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'default',
  'items',
  'minItems',
  'maxItems',
  'enum',
  'properties',
  'propertyOrdering',
  'required',
  'minProperties',
  'maxProperties',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'example',
  'anyOf',
]);

/** Deep enough for any real tool; a self-referencing `$ref` would otherwise never end. */
const MAX_DEPTH = 32;

type Schema = Record<string, unknown>;

interface Context {
  readonly definitions: Readonly<Record<string, unknown>>;
  /** Response schemas list their properties in order, so the answer's fields come in the schema's order. */
  readonly propertyOrdering: boolean;
  readonly param: string;
}

/**
 * An OpenAI (JSON Schema) parameters or response schema in the form Google accepts: local `$ref`s inlined,
 * `{"type": "null"}` alternatives and `["x", "null"]` types turned into `nullable`, `oneOf` read as `anyOf`,
 * `const` as a one-value `enum`, `required` limited to the properties that exist, every other field dropped.
 * A schema it cannot express (recursive, a tuple) is a 400 naming `param`.
 */
export function toGoogleSchema(schema: unknown, options: { propertyOrdering: boolean; param: string }): Schema {
  const root = asSchema(schema, options.param);
  const definitions = { ...asRecord(root.definitions), ...asRecord(root.$defs) };
  return convert(root, { definitions, ...options }, 0);
}

function convert(node: Schema, context: Context, depth: number): Schema {
  if (depth > MAX_DEPTH) {
    throw invalid(context, `is nested deeper than ${MAX_DEPTH} levels (or refers to itself), which Google's schema cannot express`);
  }
  const source = expand(node, context, depth);
  const out: Schema = {};
  let nullable = source.nullable === true;

  const type = source.type;
  if (Array.isArray(type)) {
    const kinds = (type as unknown[]).filter((kind) => kind !== 'null');
    nullable ||= kinds.length < type.length;
    if (kinds.length === 1) out.type = kinds[0];
    else if (kinds.length > 1) out.anyOf = kinds.map((kind) => ({ type: kind }));
  } else if (type !== undefined && type !== 'null') {
    out.type = type;
  }

  const alternatives = source.anyOf ?? source.oneOf;
  if (Array.isArray(alternatives)) {
    const kept = alternatives.filter((alternative) => !isNullSchema(alternative));
    nullable ||= kept.length < alternatives.length;
    const converted = kept.map((alternative) => convert(asSchema(alternative, context.param), context, depth + 1));
    if (converted.length === 1 && out.type === undefined) Object.assign(out, converted[0]);
    else if (converted.length > 0) out.anyOf = converted;
  }

  for (const [field, value] of Object.entries(source)) {
    if (!SCHEMA_FIELDS.has(field) || field === 'type' || field === 'anyOf' || field === 'nullable') continue;
    if (field === 'properties') continue;
    if (field === 'items') {
      if (Array.isArray(value)) throw invalid(context, 'uses tuple `items`, which Google\'s schema cannot express');
      out.items = convert(asSchema(value, context.param), context, depth + 1);
      continue;
    }
    out[field] = value;
  }
  if (source.const !== undefined && out.enum === undefined) out.enum = [source.const];

  const properties = asRecord(source.properties);
  const names = Object.keys(properties);
  if (names.length > 0) {
    const converted: Schema = {};
    for (const name of names) converted[name] = convert(asSchema(properties[name], context.param), context, depth + 1);
    out.properties = converted;
    out.type ??= 'object';
    if (context.propertyOrdering && out.propertyOrdering === undefined) out.propertyOrdering = names;
  }
  if (Array.isArray(out.required)) {
    // Google refuses a required property that is not declared.
    out.required = out.required.filter((name) => typeof name === 'string' && Object.hasOwn(properties, name));
    if ((out.required as unknown[]).length === 0) delete out.required;
  }
  if (nullable) out.nullable = true;
  return out;
}

/** `$ref` to a local definition and single-member `allOf` (what pydantic writes for a described sub-model), inlined. */
function expand(node: Schema, context: Context, depth: number): Schema {
  let current = node;
  for (let hops = 0; ; hops++) {
    if (hops > MAX_DEPTH || depth + hops > MAX_DEPTH) {
      throw invalid(context, 'refers to itself, which Google\'s schema cannot express');
    }
    const ref = current.$ref;
    if (typeof ref === 'string') {
      const name = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref)?.[1];
      const target = name === undefined ? undefined : context.definitions[decodeURIComponent(name)];
      if (target === undefined) throw invalid(context, `refers to ${JSON.stringify(ref.slice(0, 100))}, which is not one of its $defs`);
      const { $ref: _ref, ...rest } = current;
      current = { ...asSchema(target, context.param), ...rest };
      continue;
    }
    const allOf = current.allOf;
    if (Array.isArray(allOf)) {
      if (allOf.length !== 1) throw invalid(context, 'uses `allOf` with several schemas, which Google\'s schema cannot express');
      const { allOf: _allOf, ...rest } = current;
      current = { ...asSchema(allOf[0], context.param), ...rest };
      continue;
    }
    return current;
  }
}

function isNullSchema(value: unknown): boolean {
  return value !== null && typeof value === 'object' && (value as Schema).type === 'null' && Object.keys(value).length === 1;
}

function asSchema(value: unknown, param: string): Schema {
  if (value === true || value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AppException('validation_failed', `\`${param}\` must be a JSON Schema object`, { param });
  }
  return value as Schema;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function invalid(context: Context, what: string): AppException {
  return new AppException('validation_failed', `\`${context.param}\` ${what}`, { param: context.param });
}
