// cookie-signature (a dependency of express-session) ships no types; the tests use two functions.
declare module 'cookie-signature' {
  const signature: {
    sign(value: string, secret: string): string
    unsign(value: string, secret: string): string | false
  }
  export default signature
}
