// uPlot, wrapped as a component: it draws thousands of points on a canvas without slowing the page.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useEffect, useRef } from "preact/hooks";
import { html } from "./html.js";

function hourPadded(u) {
  const xs = u.data[0].filter((x) => x != null);
  if (!xs.length) return [Date.now() / 1000 - 3600, Date.now() / 1000 + 3600];
  return [Math.min(...xs) - 3600, Math.max(...xs) + 3600];
}

export function Chart({ series, data, height = 220, xTime = false, yFormat, testid }) {
  const box = useRef(null);
  const plot = useRef(null);
  const shape = JSON.stringify(series.map((s) => s.label)) + xTime;

  useEffect(() => {
    const width = Math.max(320, box.current.clientWidth);
    const options = {
      width,
      height,
      scales: {
        // Money starts at zero, so that the gap between the router and a baseline reads true.
        y: { range: (_, min, max) => [0, max > 0 ? max * 1.1 : 1] },
        // One point would otherwise stretch the time axis over years; show at least an hour each side.
        x: xTime ? { time: true, range: hourPadded } : { time: false },
      },
      axes: [xTime ? {} : { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] }, { values: (_, ticks) => ticks.map((t) => (yFormat ? yFormat(t) : t)), size: 80 }],
      series: [{ label: xTime ? "time" : "turn" }, ...series.map((s) => ({ ...s, width: 2 }))],
      legend: { live: true },
    };
    plot.current = new uPlot(options, data, box.current);
    const resize = () => plot.current.setSize({ width: Math.max(320, box.current.clientWidth), height });
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      plot.current.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    if (plot.current) plot.current.setData(data);
  }, [data]);

  return html`<div class="chart" ref=${box} data-testid=${testid}></div>`;
}
