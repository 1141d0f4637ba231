// autocannon ships no types; bench/load.ts declares the shape it uses.
declare module 'autocannon' {
  const autocannon: (options: unknown) => Promise<unknown>;
  export default autocannon;
}
