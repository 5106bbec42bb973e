// Files the build embeds as text (scripts/build.mjs, plugin "demo-text").
declare module '*.pem' {
  const text: string;
  export default text;
}
declare module '*.key' {
  const text: string;
  export default text;
}
declare module '*.mjs' {
  const text: string;
  export default text;
}
