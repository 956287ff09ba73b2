import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { UpstreamProtocolError } from '../provider';

/** One decoded `application/vnd.amazon.eventstream` message: the headers Bedrock's streams are read by, and its payload. */
export interface EventFrame {
  /** `event`, `exception` or `error`. */
  readonly messageType: string | undefined;
  /** The event's name (`contentBlockDelta`, …) or the exception's (`throttlingException`, …). */
  readonly eventType: string | undefined;
  readonly exceptionType: string | undefined;
  readonly errorCode: string | undefined;
  readonly errorMessage: string | undefined;
  readonly body: Uint8Array;
}

/** Prelude (total and header length, 8 bytes) + prelude CRC + message CRC. */
const MIN_FRAME_BYTES = 16;
/** AWS caps an event-stream message at 16 MiB of payload plus 128 kB of headers; a larger length is a broken stream. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024 + 128 * 1024 + MIN_FRAME_BYTES;

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/**
 * Cuts an AWS event stream into its messages as the bytes arrive: each message starts with its total length, so
 * bytes are held until a message is complete, however TCP split it. The AWS SDK's codec checks both CRCs and
 * parses the headers; a message that fails either is a protocol error, as is a length no message can have.
 */
export class EventStreamFrames {
  /** Pieces of the message not yet complete; joined once it is (a large message in many pieces is copied once). */
  private pieces: Buffer[] = [];
  private pending = 0;

  /** The messages this piece completes. Throws UpstreamProtocolError. */
  push(bytes: Buffer): EventFrame[] {
    this.pieces.push(bytes);
    this.pending += bytes.length;
    const frames: EventFrame[] = [];
    while (this.pending >= 4) {
      let head = this.pieces[0];
      if (head.length < 4) head = this.join();
      const length = head.readUInt32BE(0);
      if (length < MIN_FRAME_BYTES || length > MAX_FRAME_BYTES) {
        throw new UpstreamProtocolError(`an event-stream message declares ${length} bytes, which no message can have`);
      }
      if (this.pending < length) break;
      if (head.length < length) head = this.join();
      frames.push(decode(head.subarray(0, length)));
      const rest = head.subarray(length);
      this.pieces[0] = rest;
      this.pending -= length;
      if (rest.length === 0) this.pieces.shift();
    }
    return frames;
  }

  /** Bytes of a message that has not arrived whole (non-zero at the end of the stream means it was cut off). */
  get pendingBytes(): number {
    return this.pending;
  }

  private join(): Buffer {
    const joined = Buffer.concat(this.pieces, this.pending);
    this.pieces = [joined];
    return joined;
  }
}

function decode(message: Buffer): EventFrame {
  let decoded: ReturnType<EventStreamCodec['decode']>;
  try {
    decoded = codec.decode(message);
  } catch {
    // The codec's text names checksums, never the payload: still, the gateway says it in its own words.
    throw new UpstreamProtocolError('an event-stream message failed its checksum or could not be decoded');
  }
  const headers = decoded.headers;
  const text = (name: string): string | undefined => {
    const header = headers[name];
    return header?.type === 'string' ? header.value : undefined;
  };
  return {
    messageType: text(':message-type'),
    eventType: text(':event-type'),
    exceptionType: text(':exception-type'),
    errorCode: text(':error-code'),
    errorMessage: text(':error-message'),
    body: decoded.body,
  };
}
