// The collection map on a <canvas>: every point drawn as its thumbnail, cut from one atlas
// image; zoom by wheel, pinch or the buttons; drag to pan; hover for a preview; click to
// select. Runs with `element` (the element holding the map's markup) and, inside gradio,
// `watch` (re-runs setup whenever the server sends a new map).
// What a test or the bench reads: on the .mm-map element, data-atlas ("loaded" or
// "failed"), data-painted (points drawn by the last paint), data-paint-ms (its time, the
// pixels read back so the drawing is finished) and data-scale (the zoom); its mmMap object
// gives a point's position on the canvas and the pictures' edge (CSS px).
const SELECTED_FIELD = 'SELECTED_FIELD_SELECTOR';
const BACKGROUND = '#f4f5f7';

function setupMap() {
  const root = element.querySelector('.mm-map');
  if (!root || (root.mmMap && root.mmMap.source === root.dataset.map)) return;
  if (root.mmMap) root.mmMap.stop();  // the page kept the element and changed its map
  const source = root.dataset.map;
  root.dataset.atlas = 'loading';
  const data = JSON.parse(source);
  const live = new AbortController();
  const { signal } = live;
  const canvas = root.querySelector('canvas.mm-canvas');
  const context = canvas.getContext('2d');
  const view = { k: 1, x: 0, y: 0, size: 0, ratio: 1 };
  const picture = new Image();
  let atlas = picture;
  let selected = data.selected;
  let hovered = -1;
  const ringed = new Set(data.ring);

  const edge = () => {
    const base = data.n <= 60 ? 56 : data.n <= 250 ? 36 : data.n <= 1000 ? 22 : 14;
    return Math.max(6, base * (view.size / 760)) * Math.min(Math.sqrt(view.k), 4);
  };
  const margin = () => Math.max(18, view.size * 0.04);
  const screenOf = (i) => {
    const m = margin();
    const span = view.size - 2 * m;
    return [(m + data.x[i] * span) * view.k + view.x, (m + data.y[i] * span) * view.k + view.y];
  };
  const nearest = (px, py) => {
    const reach = edge() / 2 + 3;
    let best = -1;
    let bestDistance = Infinity;
    for (let i = 0; i < data.n; i += 1) {
      const [x, y] = screenOf(i);
      const distance = Math.max(Math.abs(x - px), Math.abs(y - py));
      if (distance <= reach && distance < bestDistance) {
        best = i;
        bestDistance = distance;
      }
    }
    return best;
  };
  const tile = (target, i, x, y, s) => {
    const sx = (i % data.cols) * data.tile;
    const sy = Math.floor(i / data.cols) * data.tile;
    target.drawImage(atlas, sx, sy, data.tile, data.tile, x, y, s, s);
  };
  const drawPoint = (i, s) => {
    const [x, y] = screenOf(i);
    if (x < -s || y < -s || x > view.size + s || y > view.size + s) return 0;
    if (root.dataset.atlas === 'loaded') tile(context, i, x - s / 2, y - s / 2, s);
    context.strokeStyle = data.colours[data.c[i]];
    context.lineWidth = s >= 20 ? 2 : 1;
    context.strokeRect(x - s / 2, y - s / 2, s, s);
    if (root.dataset.atlas !== 'loaded') {
      context.fillStyle = data.colours[data.c[i]];
      context.fillRect(x - s / 2, y - s / 2, s, s);
    }
    return 1;
  };
  const ring = (i, s, colour, width) => {
    const [x, y] = screenOf(i);
    context.beginPath();
    context.arc(x, y, s * 0.72 + width, 0, 2 * Math.PI);
    context.strokeStyle = colour;
    context.lineWidth = width;
    context.stroke();
  };
  const paint = () => {
    const started = performance.now();
    context.setTransform(view.ratio, 0, 0, view.ratio, 0, 0);
    context.fillStyle = BACKGROUND;
    context.fillRect(0, 0, view.size, view.size);
    const s = edge();
    let drawn = 0;
    for (let i = 0; i < data.n; i += 1) if (!ringed.has(i)) drawn += drawPoint(i, s);
    for (const i of ringed) drawn += drawPoint(i, s);
    for (const i of ringed) ring(i, s, '#ffffff', 5);
    for (const i of ringed) ring(i, s, '#111111', 3);
    if (selected !== null && selected !== undefined) ring(selected, s * 1.1, '#e8590c', 4);
    if (data.star) {
      const m = margin();
      const span = view.size - 2 * m;
      context.font = `${Math.round(22 + s / 2)}px sans-serif`;
      context.textAlign = 'center';
      context.textBaseline = 'middle';
      context.fillStyle = '#111111';
      context.fillText('★', (m + data.star[0] * span) * view.k + view.x,
        (m + data.star[1] * span) * view.k + view.y);
    }
    context.getImageData(0, 0, 1, 1);  // waits until the pixels are really drawn
    root.dataset.paintMs = (performance.now() - started).toFixed(2);
    root.dataset.painted = String(drawn);
    root.dataset.scale = view.k.toFixed(3);
  };
  const resize = () => {
    const size = canvas.clientWidth;
    if (!size) return;
    view.ratio = window.devicePixelRatio || 1;
    if (size !== view.size) {
      view.x *= size / (view.size || size);
      view.y *= size / (view.size || size);
    }
    view.size = size;
    canvas.width = Math.round(size * view.ratio);
    canvas.height = Math.round(size * view.ratio);
    paint();
  };
  const zoomAt = (px, py, factor) => {
    const k = Math.min(40, Math.max(1, view.k * factor));
    view.x = px - (px - view.x) * (k / view.k);
    view.y = py - (py - view.y) * (k / view.k);
    view.k = k;
    if (k === 1) {
      view.x = 0;
      view.y = 0;
    }
    paint();
  };
  const local = (event) => {
    const box = canvas.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  };
  const thumbInto = (box, i) => {
    const picture = box.querySelector('canvas');
    const pen = picture.getContext('2d');
    pen.clearRect(0, 0, picture.width, picture.height);
    if (root.dataset.atlas === 'loaded') tile(pen, i, 0, 0, picture.width);
    box.querySelector('.mm-name').textContent = data.files[i];
    box.querySelector('.mm-caption').textContent = [data.captions[i], data.names[data.c[i]]]
      .filter(Boolean).join(' · ');
  };
  const select = (i) => {
    selected = i;
    const pick = root.querySelector('.mm-pick');
    thumbInto(pick, i);
    pick.dataset.state = 'selected';
    const field = document.querySelector(SELECTED_FIELD);
    if (field) {
      field.value = String(i);
      field.dispatchEvent(new Event('input', { bubbles: true }));
      field.dispatchEvent(new Event('change', { bubbles: true }));
    }
    paint();
  };
  const hover = (px, py) => {
    const tip = root.querySelector('.mm-tip');
    const i = nearest(px, py);
    if (i < 0) {
      tip.hidden = true;
      hovered = -1;
      return;
    }
    if (i !== hovered) thumbInto(tip, i);
    hovered = i;
    tip.style.left = `${Math.max(0, Math.min(px + 14, view.size - 150))}px`;
    tip.style.top = `${canvas.offsetTop + Math.min(py + 14, view.size - 40)}px`;
    tip.hidden = false;
  };

  const pointers = new Map();
  let press = null;
  canvas.addEventListener('pointerdown', (event) => {
    root.querySelector('.mm-tip').hidden = true;
    canvas.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, local(event));
    press = pointers.size === 1 ? { at: local(event), moved: 0 } : null;
  }, { signal });
  canvas.addEventListener('pointermove', (event) => {
    const now = local(event);
    const before = pointers.get(event.pointerId);
    if (!before) {
      if (event.pointerType === 'mouse') hover(...now);
      return;
    }
    if (pointers.size === 2) {
      const other = [...pointers.entries()].find(([id]) => id !== event.pointerId)[1];
      const apart = Math.hypot(before[0] - other[0], before[1] - other[1]);
      const nowApart = Math.hypot(now[0] - other[0], now[1] - other[1]);
      if (apart > 0) zoomAt((now[0] + other[0]) / 2, (now[1] + other[1]) / 2, nowApart / apart);
    } else if (view.k > 1) {
      view.x += now[0] - before[0];
      view.y += now[1] - before[1];
      paint();
    }
    if (press) press.moved += Math.hypot(now[0] - before[0], now[1] - before[1]);
    pointers.set(event.pointerId, now);
  }, { signal });
  const release = (event) => {
    pointers.delete(event.pointerId);
    if (press && press.moved < 6 && event.type === 'pointerup') {
      const i = nearest(...local(event));
      if (i >= 0) select(i);
    }
    press = null;
  };
  canvas.addEventListener('pointerup', release, { signal });
  canvas.addEventListener('pointercancel', release, { signal });
  canvas.addEventListener('pointerleave', () => { root.querySelector('.mm-tip').hidden = true; },
    { signal });
  canvas.addEventListener('wheel', (event) => {
    event.preventDefault();
    zoomAt(...local(event), Math.exp(-event.deltaY * 0.0015));
  }, { passive: false, signal });
  root.querySelectorAll('[data-zoom]').forEach((button) => button.addEventListener('click', () => {
    const how = button.dataset.zoom;
    if (how === 'reset') zoomAt(0, 0, 1 / view.k);
    else zoomAt(view.size / 2, view.size / 2, how === 'in' ? 1.6 : 1 / 1.6);
  }, { signal }));

  const watcher = new ResizeObserver(resize);
  const stop = () => {
    live.abort();
    watcher.disconnect();
  };
  root.mmMap = { screenOf, edge, paint, source, stop };
  watcher.observe(canvas);
  picture.src = data.atlas;
  // Decoded once into a bitmap off the main thread, so that no paint waits on decoding.
  picture.decode().then(() => createImageBitmap(picture)).then((bitmap) => {
    if (signal.aborted) return;
    atlas = bitmap;
    root.dataset.atlas = 'loaded';
    resize();
    if (selected !== null && selected !== undefined) select(selected);
  }, () => {
    if (signal.aborted) return;
    root.dataset.atlas = 'failed';
    resize();
  });
}

setupMap();
if (typeof watch === 'function') watch('value', setupMap);
