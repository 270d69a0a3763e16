/**
 * A builtin that Node 20's V8 (11.3) keeps behind a flag. A V8 flag set while the process runs does not reach
 * a context that exists already, but a context made after it has the builtin, and what it returns can be used
 * from any context: free-bytes.ts takes `ArrayBuffer.prototype.transfer` this way, the storage node's idle
 * collector `gc`.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

/** Sets `flag`, then evaluates `expression` in a new context; the function it names, or undefined. */
export function builtinBehindFlag<F extends (...args: never[]) => unknown>(flag: string, expression: string): F | undefined {
  try {
    v8.setFlagsFromString(flag);
    const made = vm.runInNewContext(expression) as unknown;
    return typeof made === 'function' ? (made as F) : undefined;
  } catch {
    return undefined;
  }
}
