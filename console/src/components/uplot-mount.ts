import uPlot from 'uplot';

/**
 * Creates a uPlot chart in `el`, as wide as the element (`fallbackWidth` while it has no
 * layout yet), and keeps it that wide as the element resizes; the height stays `opts.height`.
 * The chart goes to `onChart` so the component can feed it with `setData`, and undefined goes
 * there once it is destroyed. Returns the destroy function, which suits an `$effect` teardown.
 */
export function mountUplot(
  el: HTMLElement,
  opts: Omit<uPlot.Options, 'width'>,
  data: uPlot.AlignedData,
  fallbackWidth: number,
  onChart: (chart: uPlot | undefined) => void,
): () => void {
  const chart = new uPlot({ ...opts, width: el.clientWidth || fallbackWidth }, data, el);
  onChart(chart);
  const resize = new ResizeObserver(() => chart.setSize({ width: el.clientWidth, height: opts.height }));
  resize.observe(el);
  return () => {
    resize.disconnect();
    chart.destroy();
    onChart(undefined);
  };
}
