/**
 * Runs `action` with the process's 'uncaughtException' listeners (mocha's, which
 * fail the running test) replaced by one that collects the exceptions, and
 * returns them. The listeners are restored afterwards, also on failure.
 */
export async function collectUncaught(action: () => Promise<void>): Promise<unknown[]> {
  const previous = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  const uncaught: unknown[] = [];
  process.on('uncaughtException', (error) => uncaught.push(error));
  try {
    await action();
  } finally {
    process.removeAllListeners('uncaughtException');
    for (const listener of previous) process.on('uncaughtException', listener);
  }
  return uncaught;
}
