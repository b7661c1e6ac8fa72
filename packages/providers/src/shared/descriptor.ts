import type { CloudFacts, PatFacts } from '@alphaswarm/contracts/kinds';
import type { z } from 'zod';

/**
 * A kind's facts (from `@alphaswarm/contracts/kinds`) with its schemas: zod, still no SDK, so
 * generic code (the API's services and routers, the store file) reads it without loading any
 * upstream's client.
 */
interface Schemas {
  /**
   * What the operator enters: a PAT kind's connect input, a cloud's identity params. Validated
   * once, where the API receives it; services and providers take the typed value.
   */
  inputSchema: z.ZodObject;
  /** Plaintext JSON inside the link's Fernet token; null for federated kinds. Parsed once, on unseal. */
  secretSchema: z.ZodType | null;
  /** What `credentials.issue` hands a service principal for a link of this kind. */
  issuedSchema: z.ZodObject;
  /**
   * A valid input as the operator would enter it (fake values): the API document's example and
   * where the generic input tests start, so a new kind brings its own.
   */
  example: Record<string, unknown>;
}

export type PatDescriptor<K extends string = string, P extends string = string> = PatFacts<K, P> & Schemas;
export type CloudDescriptor<K extends string = string> = CloudFacts<K> & Schemas;
export type Descriptor = PatDescriptor | CloudDescriptor;
