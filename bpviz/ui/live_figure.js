// bpviz's live figure (fixed code; see live_figure.py): a Plotly figure updated in place with Plotly.react, so a
// new figure on every slider move does not unmount and redraw the chart (Streamlit 1.67's st.plotly_chart does:
// its element id follows the figure, and the chart blinks out for a frame or more on every change).
// Plotly itself is Streamlit's own copy: its chart code, loaded once per page, defines window.Plotly.
const plotlyReady = {};

function loadPlotly(chunk) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!plotlyReady[chunk]) {
    const main = document.querySelector('script[type="module"][src*="/static/js/index."]');
    const base = main ? main.src : new URL("./static/js/", document.baseURI).href;
    plotlyReady[chunk] = import(new URL(chunk, base).href).then(() => {
      if (!window.Plotly) throw new Error("Streamlit's Plotly chunk did not define window.Plotly");
      return window.Plotly;
    });
  }
  return plotlyReady[chunk];
}

export default function (component) {
  const { data, parentElement } = component;
  let s = parentElement.__bpvizFigure;
  if (!s) {
    const div = document.createElement("div");
    div.className = "bpviz-figure";
    div.dataset.testid = "bpvizFigure";
    parentElement.appendChild(div);
    s = parentElement.__bpvizFigure = { div, shown: null, pending: null, drawing: false };
    // the column's width changes (sidebar folded, window resized): Plotly fits the figure to it. Not while the
    // chart is detached or hidden (a page switch): Plotly refuses that with a rejected promise
    const fit = new ResizeObserver(() => {
      if (!div.isConnected) return fit.disconnect();
      if (window.Plotly && div._fullLayout && div.offsetParent !== null) {
        window.Plotly.Plots.resize(div).catch(() => {});
      }
    });
    fit.observe(div);
  }
  s.pending = data;
  draw(s);
}

// one Plotly.react at a time, always with the newest figure (a drag brings them faster than a slow page draws)
async function draw(s) {
  if (s.drawing) return;
  s.drawing = true;
  try {
    while (s.pending && s.pending.figure !== s.shown) {
      const data = s.pending;
      const Plotly = await loadPlotly(data.chunk);
      const figure = JSON.parse(data.figure);
      // the page's font where the figure names none (st.plotly_chart's theme does the same)
      const font = { family: getComputedStyle(s.div).fontFamily, ...(figure.layout.font || {}) };
      figure.layout = { ...figure.layout, font };
      await Plotly.react(s.div, figure.data, figure.layout, data.config);
      s.shown = data.figure;
      s.div.dataset.drawn = String((Number(s.div.dataset.drawn) || 0) + 1);
    }
  } finally {
    s.drawing = false;
  }
}
