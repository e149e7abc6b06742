/**
 * Calls `settle` once the response is over: when a streamed (SSE) body has been read to its end
 * or cancelled — by a client that went away, for instance — and at once for any other body, which
 * is already complete. This is what keeps a session `active` exactly as long as it is serving.
 */
export function settleWhenDelivered(response: Response, settle: () => void): Response {
  const body = response.body;
  const streamed = response.headers.get('content-type')?.startsWith('text/event-stream') === true;
  if (body === null || !streamed) {
    settle();
    return response;
  }
  const reader = body.getReader();
  const tracked = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          settle();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        settle();
        controller.error(error);
      }
    },
    async cancel(reason) {
      settle();
      await reader.cancel(reason).catch(() => {});
    },
  });
  return new Response(tracked, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
