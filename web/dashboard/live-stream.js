// Server-sent events that exist only while someone looks: the EventSource is opened while the page
// is visible and closed as soon as it is hidden (so the server stops following logs or deploys for
// a background tab), then opened again when the page comes back.

/**
 * @param {string} url
 * @param {{ events: Record<string, (data: string) => void>, onOpen?: () => void, onClose?: (why: string) => void }} handlers
 */
export function liveStream(url, handlers) {
  let source = null;
  let stopped = false;

  const close = (why) => {
    if (!source) return;
    source.close();
    source = null;
    handlers.onClose?.(why);
  };
  const open = () => {
    if (stopped || source || document.visibilityState !== 'visible') return;
    const es = new EventSource(url, { withCredentials: true });
    source = es;
    // each (re)connection replays from the start (the push's first line, the log's recent lines)
    es.addEventListener('open', () => handlers.onOpen?.());
    for (const [event, fn] of Object.entries(handlers.events)) es.addEventListener(event, (e) => fn(e.data));
    es.addEventListener('error', () => {
      // CLOSED: the server refused (401/403/404) or ended for good; CONNECTING: the browser retries
      if (es.readyState === EventSource.CLOSED && source === es) close('closed');
    });
  };
  const onVisibility = () => (document.visibilityState === 'visible' ? open() : close('hidden'));
  document.addEventListener('visibilitychange', onVisibility);
  open();
  return {
    /** ends the stream for good (a page change, or the command ended) */
    stop(why = 'stopped') {
      stopped = true;
      document.removeEventListener('visibilitychange', onVisibility);
      close(why);
    },
    /** closes the current connection but opens again when asked */
    pause(why = 'paused') {
      close(why);
    },
    resume() {
      open();
    },
    get open() {
      return source !== null;
    },
  };
}

/** Runs `fn` every `ms` while the page is visible (and once at once); returns a stop function */
export function whileVisible(fn, ms) {
  let timer = null;
  const tick = () => {
    clearTimeout(timer);
    timer = null;
    if (document.visibilityState !== 'visible') return;
    Promise.resolve(fn()).finally(() => {
      if (document.visibilityState === 'visible' && timer === null) timer = setTimeout(tick, ms);
    });
  };
  const onVisibility = () => (document.visibilityState === 'visible' ? tick() : clearTimeout(timer));
  document.addEventListener('visibilitychange', onVisibility);
  tick();
  return () => {
    document.removeEventListener('visibilitychange', onVisibility);
    clearTimeout(timer);
  };
}
