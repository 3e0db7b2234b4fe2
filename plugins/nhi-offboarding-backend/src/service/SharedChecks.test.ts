import { SharedChecks } from './SharedChecks';

/** A check whose runs end when the test says, counting how many started. */
function controlledCheck() {
  const runs: { finish: (v: string) => void; fail: (e: Error) => void }[] = [];
  const check = jest.fn(
    () =>
      new Promise<string>((finish, fail) => {
        runs.push({ finish, fail });
      }),
  );
  return { check, runs };
}

/** Lets the event loop turn (a check starts on the turn after it is asked for). */
const turn = () => new Promise(resolve => setImmediate(resolve));

describe('SharedChecks', () => {
  it('starts one check, on the next turn, for the callers that ask in the same turn', async () => {
    const checks = new SharedChecks<string>();
    const { check, runs } = controlledCheck();
    const answers = [1, 2, 3].map(() => checks.run('a', check));
    expect(check).not.toHaveBeenCalled();
    await turn();
    expect(check).toHaveBeenCalledTimes(1);
    runs[0].finish('shared');
    for (const answer of answers) await expect(answer).resolves.toBe('shared');
  });

  it('gives callers that arrive during a check the next check, shared, never the one already reading', async () => {
    const checks = new SharedChecks<string>();
    const { check, runs } = controlledCheck();
    const early = checks.run('a', check);
    await turn(); // the first check is reading now
    const late = [1, 2, 3].map(() => checks.run('a', check));
    await turn();
    // One check at a time: the late callers' check has not started.
    expect(check).toHaveBeenCalledTimes(1);
    runs[0].finish('began before the late callers asked');
    await expect(early).resolves.toBe('began before the late callers asked');
    await turn();
    expect(check).toHaveBeenCalledTimes(2);
    runs[1].finish('began after they asked');
    for (const answer of late)
      await expect(answer).resolves.toBe('began after they asked');
  });

  it('starts a new check for a caller arriving once the shared one has started', async () => {
    const checks = new SharedChecks<string>();
    const { check, runs } = controlledCheck();
    checks.run('a', check);
    await turn();
    const second = checks.run('a', check);
    runs[0].finish('one');
    await turn();
    await turn();
    expect(check).toHaveBeenCalledTimes(2);
    const third = checks.run('a', check); // the second check is reading now
    runs[1].finish('two');
    await expect(second).resolves.toBe('two');
    await turn();
    expect(check).toHaveBeenCalledTimes(3);
    runs[2].finish('three');
    await expect(third).resolves.toBe('three');
  });

  it('keeps keys apart', async () => {
    const checks = new SharedChecks<string>();
    const { check, runs } = controlledCheck();
    const a = checks.run('a', check);
    const b = checks.run('b', check);
    await turn();
    expect(check).toHaveBeenCalledTimes(2);
    runs[1].finish('b');
    runs[0].finish('a');
    await expect(a).resolves.toBe('a');
    await expect(b).resolves.toBe('b');
  });

  it('gives a failure to the callers that shared the check, and the next caller a new check', async () => {
    const checks = new SharedChecks<string>();
    const { check, runs } = controlledCheck();
    const first = checks.run('a', check);
    await turn();
    const shared = [checks.run('a', check), checks.run('a', check)];
    // The running check failing does not fail the ones waiting for the next.
    runs[0].fail(new Error('database gone'));
    await expect(first).rejects.toThrow('database gone');
    await turn();
    await turn();
    runs[1].fail(new Error('still gone'));
    for (const answer of shared)
      await expect(answer).rejects.toThrow('still gone');
    const after = checks.run('a', check);
    await turn();
    expect(check).toHaveBeenCalledTimes(3);
    runs[2].finish('back');
    await expect(after).resolves.toBe('back');
  });
});
