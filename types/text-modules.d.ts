// Shell scripts are bundled as text (esbuild `text` loader, and the vitest plugin in vitest.config.ts).
declare module '*.sh' {
  const text: string;
  export default text;
}
