import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { StaticCredentials } from './aws-settings';

/** node:crypto's SHA-256 behind the interface the signer takes (the AWS SDK for Node passes the same). */
const Sha256 = Hash.bind(null, 'sha256');

/**
 * Signs Bedrock runtime calls with AWS Signature Version 4 (service `bedrock`), using the AWS SDK's own signer.
 * Every call is signed anew: the body hash and the timestamp change. The path is given as sent, its model id
 * already percent-encoded; the signer encodes it once more for the canonical request, as AWS does for every
 * service but S3. The signer caches the derived signing key per day and region, so a call costs a few hashes.
 */
export class RequestSigner {
  private readonly signer: SignatureV4;

  constructor(
    credentials: StaticCredentials,
    region: string,
    /** `host[:port]` of the endpoint: signed, and sent as the Host header. */
    private readonly host: string,
  ) {
    this.signer = new SignatureV4({ service: 'bedrock', region, credentials, sha256: Sha256, uriEscapePath: true, applyChecksum: true });
  }

  /** The headers to send: `headers` plus host, x-amz-date, x-amz-content-sha256, x-amz-security-token and authorization. */
  async sign(path: string, headers: Readonly<Record<string, string>>, body: string): Promise<Record<string, string>> {
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: 'https:',
      hostname: this.host,
      path,
      query: {},
      headers: { ...headers, host: this.host },
      body,
    });
    return signed.headers;
  }
}
