// The request body, read only once the request is routed and admitted: an unknown route answers
// 404 and an unauthenticated request 401 whatever it sends, and an admitted one is read up to the
// limit and no further (`413 payload_too_large` past it).
import type { IncomingMessage } from 'node:http';
import { envelope, HttpError } from './errors.js';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const JSON_TYPE = /^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i;

export function tooLarge(limitBytes: number): HttpError {
  return new HttpError(413, envelope('payload_too_large', `request body exceeds ${limitBytes} bytes`, { limitBytes }));
}

/**
 * Reads the body into memory, at most `limitBytes`. A declared `Content-Length` over the limit is
 * refused before a byte is read; a longer stream stops being read at the limit (the connection is
 * then closed, so nothing drains the rest).
 */
export function readBoundedBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) return Promise.reject(tooLarge(limitBytes));
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== '') {
    return Promise.reject(new HttpError(400, envelope('invalid_argument', 'compressed request bodies are not accepted', { contentEncoding: encoding })));
  }
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > limitBytes) {
        cleanup();
        req.pause();
        reject(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, length));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new HttpError(400, envelope('invalid_argument', 'request body could not be read', { cause: error.message })));
    };
    const onAborted = () => onError(new Error('request aborted'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/** A JSON body as a value; an empty body is no body, anything else but JSON is a 400. */
export function parseJsonBody(contentType: string | undefined, raw: Buffer): { value?: unknown; error?: HttpError } {
  if (raw.length === 0) return {};
  if (!contentType || !JSON_TYPE.test(contentType)) {
    return {
      error: new HttpError(
        400,
        envelope('invalid_argument', 'request body must be JSON (Content-Type: application/json)', { contentType: contentType ?? null }),
      ),
    };
  }
  try {
    return { value: JSON.parse(raw.toString('utf8')) };
  } catch (error) {
    return { error: new HttpError(400, envelope('invalid_argument', 'malformed JSON body', { cause: (error as Error).message })) };
  }
}
