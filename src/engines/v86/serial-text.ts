// v86 hands serial output over a byte at a time (UTF-8): decoded to text here, and batched.

/** A listener for `serialN-output-byte` that hands the bytes on as text, in batches (one per microtask). */
export function serialText(onText: (text: string) => void): (byte: number) => void {
  const decoder = new TextDecoder();
  let pending: number[] = [];
  const flush = () => {
    const text = decoder.decode(new Uint8Array(pending), { stream: true });
    pending = [];
    onText(text);
  };
  return (byte) => {
    if (pending.push(byte) === 1) queueMicrotask(flush);
  };
}
