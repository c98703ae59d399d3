// The page's bus, one per page (window.__optivizBus), shared by optiviz's elements: the trajectory chart says
// which step it shows ("step"), the sync element asks for a step ("goto"; the last request is kept in
// `requested` for a chart drawn later), the previews element asks for a preview ("preview", "preview-end").
// _assets.py puts this file in front of each of their scripts.

function pageBus() {
  if (!window.__optivizBus) {
    const bus = new EventTarget();
    bus.requested = null;
    bus.previewing = null;
    window.__optivizBus = bus;
  }
  return window.__optivizBus;
}

