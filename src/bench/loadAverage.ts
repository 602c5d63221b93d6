/** A load average (os.loadavg(): 1, 5 and 15 minutes) as every bench report prints it: `0.65 0.69 1.50`. */
export function formatLoad(load: readonly number[]): string {
  return load.map((x) => x.toFixed(2)).join(' ');
}
