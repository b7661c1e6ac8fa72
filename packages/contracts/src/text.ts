import { z } from 'zod';

/**
 * The one rule for strings callers send. Control characters (C0, DEL, C1) and unpaired UTF-16
 * surrogates are refused here, as the caller's mistake: let through, an HTTP client chokes on them
 * later and the failure reads as the upstream's ("Could not reach ...").
 */
const FORBIDDEN_IN_TEXT = /[\p{Cc}\p{Cs}]/u;
/** A document (an uploaded store file) may also break lines and indent. */
const FORBIDDEN_IN_DOCUMENT = /(?![\t\n\r])[\p{Cc}\p{Cs}]/u;
/** Tokens travel in headers and URLs: visible ASCII only, exactly as the upstream issued them. */
const SECRET = /^[!-~]*$/;

const TEXT_RULE = 'must not contain control characters or invalid Unicode';

/** Text of at most `max` characters (at least `min`), with no control characters or lone surrogates. */
export function boundedText(max: number, min = 0) {
  const bounded = z.string().max(max, `must be at most ${max} characters`);
  return (
    min > 0 ? bounded.min(min, min === 1 ? 'is required' : `must be at least ${min} characters`) : bounded
  ).refine((value) => !FORBIDDEN_IN_TEXT.test(value), TEXT_RULE);
}

/** Like boundedText, but tab, line feed and carriage return are allowed (file contents). */
export function documentText(max: number, tooLong = `must be at most ${max} characters`) {
  return z
    .string()
    .max(max, tooLong)
    .refine((value) => !FORBIDDEN_IN_DOCUMENT.test(value), TEXT_RULE);
}

/** A token, PAT or API token: 1 to `max` visible ASCII characters, no spaces. */
export function secretText(max = 4096, required = 'is required') {
  return z
    .string()
    .min(1, required)
    .max(max, `must be at most ${max} characters`)
    .regex(SECRET, 'must be the token exactly as issued: visible ASCII characters, no spaces or line breaks');
}
