import { expect } from 'vitest';
import { AppError } from '../src/errors';

/** The AppError a call is refused with; the test fails when it succeeds or throws anything else. */
export async function refusal(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected a refusal');
}
