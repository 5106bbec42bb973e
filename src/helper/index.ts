/** The helper's API for the collector and tests: start it, and turn its capture into files. */
export * from './launch';
export * from './pcapng';
export * from './install';
export { checkTarget, invokingUser } from './authority';
export { addrKey, frameKey, frameTuple, ipBytes, ipv6String } from './pcap';
