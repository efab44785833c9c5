/**
 * Per-socket stream buffer of proxied TCP connections. Reads arrive in 64 KiB chunks; with
 * Node's default 16 KiB the pipe would pause and resume the other socket on nearly every chunk.
 * It also bounds what the proxy holds per connection and direction (plus one read chunk).
 */
export const SOCKET_BUFFER_BYTES = 256 * 1024;
