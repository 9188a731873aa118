import { describe, expect, it } from "vitest";
import { preserveLayout } from "./preserve-layout.ts";
import { parseYamlFile, serializeYamlFile } from "./yaml-workspace.ts";

describe("preserveLayout", () => {
  it("takes edited lines from the edit and every other line from the original", () => {
    const original = "a:   1   # one\n\n\nb: [x,y]\nc: 3\n";
    const rendered = "a: 1 # one\n\nb: [ x, y ]\nc: 3\n";
    const edited = "a: 1 # one\n\nb: [ x, y ]\nc: 4\nd: 5\n";
    expect(preserveLayout(original, rendered, edited)).toBe("a:   1   # one\n\n\nb: [x,y]\nc: 4\nd: 5\n");
  });

  it("falls back to the serializer's text when the merge would not mean the same", () => {
    const file = parseYamlFile("f.yaml", "list:\n- a\nmap:\n    key: v\n");
    file.docs[0]?.setIn(["map", "new"], 1);
    // 4-space maps with flush sequences cannot be reproduced: mixing the original's lines with the
    // serializer's would break the indentation, so the whole document is re-rendered.
    expect(serializeYamlFile(file)).toBe("list:\n- a\nmap:\n  key: v\n  new: 1\n");
  });

  it("keeps the spacing before an unchanged trailing comment on an edited line", () => {
    expect(preserveLayout("a: 1     # pinned\n", "a: 1 # pinned\n", "a: 2 # pinned\n")).toBe("a: 2     # pinned\n");
  });
});

describe("serializeYamlFile", () => {
  it("re-renders a touched file in its own style (here: 4-space indent)", () => {
    const file = parseYamlFile("f.yaml", "list:\n    - a\nmap:\n    key: v   # c\n    other: [1, 2]\n");
    const doc = file.docs[0];
    doc?.setIn(["list", 1], "b");
    doc?.setIn(["map", "new"], { nested: true });
    expect(serializeYamlFile(file)).toBe(
      "list:\n    - a\n    - b\nmap:\n    key: v   # c\n    other: [1, 2]\n    new:\n        nested: true\n",
    );
  });

  it("falls back to the serializer's text when the merge would not mean the same", () => {
    const file = parseYamlFile("f.yaml", "list:\n- a\nmap:\n    key: v\n");
    file.docs[0]?.setIn(["map", "new"], 1);
    // 4-space maps with flush sequences cannot be reproduced: mixing the original's lines with the
    // serializer's would break the indentation, so the whole document is re-rendered.
    expect(serializeYamlFile(file)).toBe("list:\n- a\nmap:\n  key: v\n  new: 1\n");
  });
});
