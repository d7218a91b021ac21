/** Shared set-up for the Alibaba Cloud tests: an emulator and a provider wired to it over HTTP. */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { AlibabaEmulator, type Executor } from '../emulators/alibaba-emulator';
import { createAlibabaProvider, type AlibabaProviderOptions } from '../../lib/cloud/alibaba-provider';

export const TEST_AK = 'LTAI5tEmulatorTestKey01';
export const TEST_SECRET = 'emulator-secret-0123456789abcdef';
export const INSTANCE_ID = 'i-bp1abcdefghijklmnopq';

export async function startEmulator(opts: { executor?: Executor } = {}): Promise<AlibabaEmulator> {
  return new AlibabaEmulator(TEST_AK, TEST_SECRET, opts).start();
}

/**
 * One emulator for the calling test file: started before its tests, closed after them, and
 * reset to a new emulator's state before each test (register per-test seeding after this).
 */
export function useAlibabaEmulator(): AlibabaEmulator {
  const emu = new AlibabaEmulator(TEST_AK, TEST_SECRET);
  beforeAll(async () => {
    await emu.start();
  });
  afterAll(async () => {
    await emu.close();
  });
  beforeEach(() => emu.reset());
  return emu;
}

/** A provider using the real openapi-core client against the emulator (no sleeping in retries). */
export function providerFor(emu: AlibabaEmulator, over: Partial<AlibabaProviderOptions> = {}) {
  return createAlibabaProvider({
    region: 'cn-hangzhou',
    credentials: { accessKeyId: TEST_AK, accessKeySecret: TEST_SECRET },
    env: { ALIBABA_CLOUD_ECS_ENDPOINT: emu.host, ALIBABA_CLOUD_SAS_ENDPOINT: emu.host },
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    poll: { initialMs: 20, maxMs: 100 },
    ...over,
  });
}

/** The environment a child process (the CLI) needs to reach the emulator: endpoints and the credential chain's variables. */
export function alibabaEmulatorEnv(emu: AlibabaEmulator): NodeJS.ProcessEnv {
  return {
    ALIBABA_CLOUD_ECS_ENDPOINT: emu.host,
    ALIBABA_CLOUD_SAS_ENDPOINT: emu.host,
    ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_AK,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_SECRET,
  };
}
