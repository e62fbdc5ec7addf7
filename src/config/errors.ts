/** A configuration that cannot start the gateway; index.ts prints its message and exits. */
export class ConfigError extends Error {}
