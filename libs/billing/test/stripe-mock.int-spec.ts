import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { answers, freeLoopbackPort, ownedShellArgs, startStripeMock, stripeMockBinary } from '../src/testing';

jest.setTimeout(30_000);

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('the stripe-mock test harness', () => {
  it('starts stripe-mock on a free loopback port, answers API calls, and stops it', async () => {
    const mock = await startStripeMock();
    expect(mock.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${mock.url}/v1/billing/meter_events`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer sk_test_harness',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'event_name=e&payload[stripe_customer_id]=cus_1&payload[value]=3&identifier=i1',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ object: 'billing.meter_event' });
    await mock.stop();
    expect(await answers(mock.url)).toBe(false);
  });

  it('stops stripe-mock when the process that started it dies, even by SIGKILL', async () => {
    const port = await freeLoopbackPort();
    // An owner process that starts stripe-mock the way the harness does, then is killed.
    const owner = spawn(
      process.execPath,
      [
        '-e',
        `const { spawn } = require('node:child_process');
         spawn('/bin/sh', JSON.parse(process.argv[1]), { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
         setInterval(() => undefined, 60_000);`,
        JSON.stringify(ownedShellArgs(stripeMockBinary(), port)),
      ],
      { stdio: 'ignore' },
    );
    const url = `http://127.0.0.1:${port}`;
    await until(() => answers(url), 'stripe-mock to answer');
    owner.kill('SIGKILL');
    await until(async () => !(await answers(url)), 'stripe-mock to stop with its owner');
  });
});
