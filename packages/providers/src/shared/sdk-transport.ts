import { ProviderError } from '@alphaswarm/contracts';
import { HTTP_METHODS, type HttpMethod } from '../http';

/**
 * Where an SDK transport adapter leaves the ProviderError it threw. Some SDKs (gaxios, MSAL)
 * wrap whatever their transport throws in their own error types and lose its code; the
 * provider reads the fault back from here to report a timeout or an oversized reply as one.
 */
export interface TransportFaults {
  last: ProviderError | null;
}

export function transportFaults(): TransportFaults {
  return { last: null };
}

/** One transport request: the fault it throws is recorded, a success clears the record. */
export async function recording<T>(faults: TransportFaults, fn: () => Promise<T>): Promise<T> {
  faults.last = null;
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ProviderError) faults.last = error;
    throw error;
  }
}

export function httpMethod(method: string, upstream: string): HttpMethod {
  const upper = method.toUpperCase();
  if ((HTTP_METHODS as readonly string[]).includes(upper)) return upper as HttpMethod;
  throw new ProviderError('internal', upstream, `The ${upstream} SDK sent an unsupported HTTP method (${method}).`);
}

/** The request bodies SDKs send here are small strings or bytes; a stream would escape the size bounds. */
export function requestBody(body: unknown, upstream: string): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof URLSearchParams) return body.toString();
  throw new ProviderError('internal', upstream, `The ${upstream} SDK sent a request body of an unsupported type.`);
}
