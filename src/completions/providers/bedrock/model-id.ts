/**
 * A Bedrock model as `bedrock/<model>` names it: a model id with its version (`anthropic.claude-3-5-sonnet-20240620-v1:0`),
 * a cross-region inference profile (`us.anthropic.claude-…`), or an ARN (a provisioned model, an application
 * inference profile, an imported model). LiteLLM's route markers in front of it (`converse/`, `invoke/`) choose
 * its API, not the model; Gatehouse speaks Converse to every chat model, so they are dropped.
 */
export interface BedrockModel {
  /** The id Bedrock knows, as written. */
  readonly id: string;
  /**
   * The id as one URL path segment: `:` and `/` percent-encoded, as the AWS SDK sends it. SigV4 encodes the path
   * once more in its canonical request, so `…-v1%3A0` is signed as `…-v1%253A0`.
   */
  readonly pathSegment: string;
  /** The region an ARN names (`arn:aws:bedrock:us-east-1:…`); null for plain ids. */
  readonly arnRegion: string | null;
  /** The model without a cross-region prefix or an ARN around it (`anthropic.claude-…`), lower case: for per-family choices. */
  readonly family: string;
}

const ROUTE_MARKERS = /^(?:converse|invoke)\//;
/** Cross-region inference profile prefixes (geographic and global). */
export const PROFILE_PREFIX = /^(?:us|us-gov|eu|apac|jp|au|ca|global)\./;
const REGION = /^[a-z0-9-]+$/;

export function parseBedrockModel(model: string): BedrockModel {
  const id = model.replace(ROUTE_MARKERS, '');
  let arnRegion: string | null = null;
  let bare = id;
  if (id.startsWith('arn:')) {
    // arn:PARTITION:bedrock:REGION:ACCOUNT:RESOURCE-TYPE/RESOURCE-ID
    const region = id.split(':')[3] ?? '';
    arnRegion = REGION.test(region) ? region : null;
    bare = id.slice(id.lastIndexOf('/') + 1);
  }
  return { id, pathSegment: encodePathSegment(id), arnRegion, family: bare.toLowerCase().replace(PROFILE_PREFIX, '') };
}

/** encodeURIComponent plus the characters it leaves alone that RFC 3986 reserves, as AWS's SDKs encode path labels. */
export function encodePathSegment(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function isRegionName(text: string): boolean {
  return REGION.test(text);
}
