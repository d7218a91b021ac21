/** Points the real AWS SDK clients at a local emulator through the SDK's own environment variables. */
const EMULATOR_KEY = { id: 'AKIAEMULATOR000TEST', secret: 'emulator-secret-not-real' };

/** The environment a child process (the CLI) needs to reach the emulator with the real SDK. */
export function awsEmulatorEnv(url: string): NodeJS.ProcessEnv {
  return { AWS_ENDPOINT_URL: url, AWS_ACCESS_KEY_ID: EMULATOR_KEY.id, AWS_SECRET_ACCESS_KEY: EMULATOR_KEY.secret, AWS_PROFILE: '', AWS_SESSION_TOKEN: '' };
}

export function useAwsEmulatorEnv(url: string): () => void {
  const keys = ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION'] as const;
  const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
  process.env.AWS_ENDPOINT_URL = url;
  process.env.AWS_ACCESS_KEY_ID = EMULATOR_KEY.id;
  process.env.AWS_SECRET_ACCESS_KEY = EMULATOR_KEY.secret;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  return () => {
    for (const k of keys) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  };
}
