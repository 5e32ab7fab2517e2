"""WCAG contrast measured in the browser: every text on screen from the page's computed styles, and the
text and reference-line colours of the Bokeh plots from their models (canvas pixels cannot be read).

Text: each non-blank text node (document and every open shadow root) whose element is on screen; its
colour (alpha and ancestor opacity applied) against the effective background, found by compositing the
background colours of its ancestors, crossing shadow hosts, down to the page. AA needs 4.5:1, or 3:1
for large text (>= 24 px, or >= 18.66 px bold) and for icon glyphs (text of symbols only, e.g. a
toolbar's overflow "⋯", a graphical object under WCAG 1.4.11). Inactive (disabled) controls and text
moved off screen for screen readers (text-indent) are exempt, as in WCAG. A closed select's chosen option
is read in the select's own colours.

Plots: titles, axis labels and ticks, legend labels and text glyphs need 4.5:1 (3:1 when large) against
the plot's background, or for a label drawn on a heatmap cell against that cell's colour (each datum
on its own); reference lines (spans) and lines or markers drawn in a neutral ink (grey or black, as
opposed to an arm or category colour) 3:1 (WCAG 1.4.11, graphical objects).
"""

from __future__ import annotations

from tests.ui.pages import SHOWN_JS

# Shared JS: CSS colour -> [r, g, b, a] (via a canvas, which normalises any CSS colour), contrast ratio.
COLOR_JS = """
  const ctx = document.createElement('canvas').getContext('2d');
  const rgba = (css) => {
    if (!css || css === 'transparent') return [0, 0, 0, 0];
    ctx.fillStyle = '#000'; ctx.fillStyle = css;
    const v = ctx.fillStyle;
    if (v.startsWith('#')) return [parseInt(v.slice(1, 3), 16), parseInt(v.slice(3, 5), 16), parseInt(v.slice(5, 7), 16), 1];
    const m = v.match(/[\\d.]+/g).map(Number);
    return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1];
  };
  const over = (top, bottom) => {  // top (with alpha) composited over an opaque bottom
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const hex = (c) => '#' + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
"""

TEXT_CONTRAST_JS = f"""() => {{
  {COLOR_JS}
  const shown = {SHOWN_JS};
  const up = (node) => {{ const p = node.parentNode; return p && p.nodeType === 11 ? p.host : p; }};
  const background = (el) => {{
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = up(node)) {{
      const c = rgba(getComputedStyle(node).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }}
    let bg = [255, 255, 255, 1];
    for (const layer of layers.reverse()) bg = over(layer, bg);
    return bg;
  }};
  const opacity = (el) => {{
    let o = 1;
    for (let node = el; node && node.nodeType === 1; node = up(node)) o *= parseFloat(getComputedStyle(node).opacity);
    return o;
  }};
  const inactive = (el) => {{
    for (let node = el; node && node.nodeType === 1; node = up(node)) {{
      if (node.disabled || node.getAttribute('aria-disabled') === 'true' || node.classList.contains('disabled')) return true;
    }}
    return false;
  }};
  const where = (el) => {{
    const path = [];
    for (let node = el; node && node.nodeType === 1 && path.length < 4; node = up(node)) {{
      path.push(node.tagName.toLowerCase() + (node.className && typeof node.className === 'string'
        ? '.' + node.className.trim().split(/\\s+/).slice(0, 2).join('.') : ''));
    }}
    return path.join(' < ');
  }};
  const failures = [];
  let checked = 0;
  const walk = (root) => {{
    const texts = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let t = texts.nextNode(); t; t = texts.nextNode()) {{
      const text = t.textContent.trim();
      let el = t.parentElement;
      if (el && el.tagName === 'OPTION') {{  // a closed select shows its chosen option in the select's colours
        const select = el.closest('select');
        if (!select || select.multiple || select.selectedOptions[0] !== el) continue;
        el = select;
      }}
      if (!text || !el || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(el.tagName)) continue;
      if (!shown(el) || inactive(el)) continue;
      const style = getComputedStyle(el);
      if (parseFloat(style.textIndent) <= -999) continue;
      const bg = background(el);
      const color = rgba(style.color);
      const fg = over([color[0], color[1], color[2], color[3] * opacity(el)], bg);
      const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
      const symbols = !/[\\p{{L}}\\p{{N}}]/u.test(text);
      const needed = size >= 24 || (bold && size >= 18.66) || symbols ? 3 : 4.5;
      const r = ratio(fg, bg);
      checked += 1;
      if (r < needed) failures.push({{text: text.slice(0, 60), ratio: Math.round(r * 100) / 100, needed,
                                      color: hex(fg), background: hex(bg), where: where(el)}});
    }}
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
  }};
  walk(document);
  return {{checked, failures}};
}}"""

# The Bokeh models of the document: text and line colours against the plot background.
PLOT_CONTRAST_JS = f"""() => {{
  {COLOR_JS}
  const failures = [];
  let checked = 0;
  const value = (spec, source) => {{
    if (spec == null) return [];
    if (typeof spec === 'string') return [spec];
    if (spec.value !== undefined) return spec.value == null ? [] : [spec.value];
    if (spec.field !== undefined && source) return [...new Set(source.data[spec.field] || [])];
    return [];
  }};
  const neutral = (css) => {{ const c = rgba(css); return Math.max(...c.slice(0, 3)) - Math.min(...c.slice(0, 3)) < 16; }};
  const check = (what, plot, colors, alpha, size, needed, background) => {{
    for (const css of colors) {{
      if (css == null) continue;
      const c = rgba(css);
      const fg = over([c[0], c[1], c[2], c[3] * (alpha == null ? 1 : alpha)], background);
      const r = ratio(fg, background);
      checked += 1;
      if (r < needed) failures.push({{what, plot, color: hex(fg), background: hex(background),
                                      ratio: Math.round(r * 100) / 100, needed}});
    }}
  }};
  // Colour of each cell of a heatmap (a Rect glyph coloured through a colour mapper) by "x|y".
  const heatmapCells = (plot) => {{
    for (const r of plot.renderers) {{
      const g = r.glyph, spec = g && g.fill_color;
      if (!g || g.constructor.__name__ !== 'Rect' || !spec || !spec.transform || !g.x.field || !g.y.field) continue;
      const data = r.data_source.data, values = data[spec.field];
      const rgba = spec.transform.rgba_mapper.v_compute(values);
      const cells = new Map();
      for (let i = 0; i < values.length; i++)
        cells.set(`${{data[g.x.field][i]}}|${{data[g.y.field][i]}}`, [rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2], rgba[4 * i + 3] / 255]);
      return cells;
    }}
    return null;
  }};
  const large = (size) => parseFloat(size || '10') * (String(size || '').endsWith('pt') ? 4 / 3 : 1) >= 24;
  for (const doc of (window.Bokeh ? Bokeh.documents : [])) {{
    for (const m of doc.all_models) {{
      const kind = m.constructor.__name__;
      if (!['Plot', 'Figure', 'GMapPlot'].includes(kind)) continue;
      const name = (m.title && m.title.text) || kind;
      const page = over(rgba(m.border_fill_color), [255, 255, 255, 1]);
      const frame = over(rgba(m.background_fill_color || m.border_fill_color), page);
      const items = [...m.renderers, ...m.center, ...m.left, ...m.right, ...m.above, ...m.below];
      if (m.title && m.title.text) check('title', name, [m.title.text_color], m.title.text_alpha, m.title.text_font_size,
                                         large(m.title.text_font_size) ? 3 : 4.5, page);
      for (const item of items) {{
        const type = item.constructor.__name__;
        if (type.endsWith('Axis') && item.visible) {{
          check('axis label', name, [item.axis_label_text_color], item.axis_label_text_alpha, null, 4.5, page);
          if (item.major_label_text_alpha > 0)
            check('tick label', name, [item.major_label_text_color], item.major_label_text_alpha, null, 4.5, page);
          else if (item.group_text_color !== undefined)  // grouped categories: the group labels are the ticks
            check('group label', name, [item.group_text_color], item.group_text_alpha, null, 4.5, page);
        }} else if (type === 'Legend' && item.visible && item.items.length) {{
          const box = over([...rgba(item.background_fill_color).slice(0, 3), rgba(item.background_fill_color)[3] *
                           (item.background_fill_alpha == null ? 1 : item.background_fill_alpha)], frame);
          check('legend label', name, [item.label_text_color], item.label_text_alpha, null, 4.5, box);
        }} else if (type === 'Span' && item.visible) {{
          check('reference line', name, [item.line_color], item.line_alpha, null, 3, frame);
        }} else if (type === 'GlyphRenderer' && item.visible) {{
          const g = item.glyph, gt = g.constructor.__name__, source = item.data_source;
          const alpha = (spec) => {{ const v = value(spec, source); return v.length ? Math.min(...v) : 1; }};
          if (gt === 'Text') {{
            const cells = heatmapCells(m);
            const texts = g.text && g.text.field ? source.data[g.text.field] : null;
            const n = source.get_length() || 0;
            for (let i = 0; i < n; i++) {{
              if (texts && !String(texts[i] ?? '').trim()) continue;
              const pick = (spec) => spec && spec.field !== undefined ? source.data[spec.field][i] : (spec ? spec.value : null);
              const at = cells && g.x.field && g.y.field ? cells.get(`${{source.data[g.x.field][i]}}|${{source.data[g.y.field][i]}}`) : null;
              check(at ? 'label on heatmap cell' : 'text label', name, [pick(g.text_color)], alpha(g.text_alpha), null, 4.5,
                    at ? over(at, frame) : frame);
            }}
          }}
          else if (['Line', 'Segment', 'MultiLine', 'Ray'].includes(gt))
            check(gt.toLowerCase() + ' in neutral ink', name, value(g.line_color, source).filter(neutral), alpha(g.line_alpha), null, 3, frame);
          else if (gt === 'Scatter') {{  // a marker shows by its fill or its outline, whichever contrasts more
            const outline = value(g.line_color, source).map(rgba).map((c) => ratio(over(c, frame), frame));
            if (!outline.some((r) => r >= 3))
              check('marker in neutral ink', name, value(g.fill_color, source).filter(neutral), alpha(g.fill_alpha), null, 3, frame);
          }}
        }}
      }}
    }}
  }}
  return {{checked, failures}};
}}"""


def text_contrast(page) -> dict:
    """{'checked': n, 'failures': [...]} for the text on screen."""
    return page.evaluate(TEXT_CONTRAST_JS)


def plot_contrast(page) -> dict:
    """{'checked': n, 'failures': [...]} for the Bokeh plots of the document."""
    return page.evaluate(PLOT_CONTRAST_JS)

