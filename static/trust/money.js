// Amounts as the API writes them ("12.500000", six places) shown as people read them ("12.50").
window.trustMoney = {
  shown(text) {
    const [whole, fraction = ""] = String(text).split(".");
    return whole + "." + fraction.replace(/0+$/, "").padEnd(2, "0");
  },
  // Exact sums: six-place decimal strings to micro-units and back, never through floats.
  micro(text) {
    const [whole, fraction = ""] = String(text).split(".");
    return BigInt(whole + fraction.padEnd(6, "0"));
  },
  fromMicro(micro) {
    const negative = micro < 0n;
    const digits = (negative ? -micro : micro).toString().padStart(7, "0");
    return (negative ? "-" : "") + digits.slice(0, -6) + "." + digits.slice(-6);
  },
};
