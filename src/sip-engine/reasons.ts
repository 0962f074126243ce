// Reason phrases for the responses the engine writes itself (RFC 3261 §21 and friends).
export const REASONS: Record<number, string> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress',
  200: 'OK', 202: 'Accepted', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 408: 'Request Timeout', 480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist', 483: 'Too Many Hops', 486: 'Busy Here', 487: 'Request Terminated',
  488: 'Not Acceptable Here', 500: 'Server Internal Error', 501: 'Not Implemented', 503: 'Service Unavailable',
  505: 'Version Not Supported', 513: 'Message Too Large', 603: 'Decline',
};
