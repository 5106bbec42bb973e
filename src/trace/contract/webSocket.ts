/** A WebSocket connection's record, shared by outgoing requests (`httpRequests[].webSocket`) and served upgrades (`incomingRequests[].webSocket`). */

/** One message (or control frame) of a WebSocket connection (per-message detail, with the socket-op trace). */
export interface WebSocketMessage {
  dir: 'sent' | 'recv';
  type: 'text' | 'binary' | 'close' | 'ping' | 'pong';
  /** Payload bytes as on the wire (compressed when permessage-deflate is on). */
  len: number;
  /** When its last frame passed the socket. */
  endAt: number;
}

/**
 * A WebSocket connection after its upgrade: lifetime, close handshake, and traffic each way. Messages are complete text and binary messages
 * (a fragmented message counts once); bytes are their payloads as framed on the wire (compressed under permessage-deflate; plaintext above
 * TLS). Control frames (ping, pong, close) and frame headers are not counted.
 */
export interface WebSocketSession {
  /** When the 101 response arrived. */
  openAt: number;
  /** When the connection closed; absent while open. */
  closeAt?: number;
  /** The status code of the first close frame (absent when it had none, or none was sent). */
  closeCode?: number;
  closeReason?: string;
  /** Who sent the first close frame; absent when the connection ended without one. */
  closedBy?: 'client' | 'server';
  sentMessages: number;
  recvMessages: number;
  sentBytes: number;
  recvBytes: number;
  /** Per-message detail, with the socket-op trace, up to its cap; the rest are counted. */
  messages?: WebSocketMessage[];
  droppedMessages?: number;
}
