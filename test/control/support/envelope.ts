/** A command's value, or its error thrown with the control plane's message. */
export async function ok<T>(promise: Promise<{ ok: true; value: unknown } | { ok: false; error: { message: string } }>): Promise<T> {
  const result = await promise;
  if (!result.ok) throw new Error(result.error.message);
  return result.value as T;
}
