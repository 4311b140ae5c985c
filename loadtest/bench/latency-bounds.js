// The clients' latency histogram: upper bounds in ms, the last bucket everything above. One
// module for the k6 script that counts into it and the runner that reads it.
export const LATENCY_BOUNDS_MS = [
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18, 20, 25, 30, 35, 40, 45, 50, 60, 70, 80, 90, 100, 125, 150, 175, 200, 250, 300, 400, 500, 750, 1000,
  1500, 2000, 3000, 5000, 7500, 10000, 15000, 20000, 30000, 60000,
];
