import { AppException } from '../../../errors';
import type { GooglePart } from './wire';

/** Media types Google reads by file extension, for URLs handed over as `fileData` (Vertex requires a type). */
const MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  txt: 'text/plain',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
};

const DATA_URI = /^data:([\w.+-]+\/[\w.+-]+)((?:;[\w.+-]+=[^;,]*)*);base64,/;

/**
 * An image, audio or file reference from an OpenAI message as a Google part: a base64 data URI becomes
 * `inlineData`; a `gs://` or http(s) URL becomes `fileData` for Google to fetch itself (the gateway never fetches
 * a caller's URL: that would make it a proxy into its own network). `format` (OpenAI's `image_url.format`,
 * `file.format`) names the media type where the URL's extension does not.
 */
export function mediaPart(url: unknown, format: unknown, param: string): GooglePart {
  if (typeof url !== 'string' || url === '') {
    throw new AppException('validation_failed', `\`${param}\` must be a non-empty string`, { param });
  }
  const explicitType = typeof format === 'string' && format !== '' ? format : undefined;
  if (url.startsWith('data:')) {
    const match = DATA_URI.exec(url);
    if (match === null) {
      throw new AppException('validation_failed', `\`${param}\` must be a base64 data URI (data:<media type>;base64,...) or a URL`, { param });
    }
    return { inlineData: { mimeType: explicitType ?? match[1], data: url.slice(match[0].length) } };
  }
  if (/^(?:gs|https?):\/\//i.test(url)) {
    const mimeType = explicitType ?? mimeFromExtension(url);
    return { fileData: mimeType === undefined ? { fileUri: url } : { mimeType, fileUri: url } };
  }
  throw new AppException('validation_failed', `\`${param}\` must be a base64 data URI, a gs:// URI or an http(s) URL`, { param });
}

function mimeFromExtension(url: string): string | undefined {
  const path = url.split(/[?#]/, 1)[0];
  const extension = /\.([a-z0-9]{2,5})$/i.exec(path)?.[1]?.toLowerCase();
  return extension === undefined ? undefined : MIME_BY_EXTENSION[extension];
}
