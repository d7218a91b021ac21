/**
 * The little XML the AWS Query (EC2) and REST-XML (S3) protocols need: responses and error
 * documents. No dependency, so neither client pulls an XML library into the bundles.
 */
/** One XML element: its local name (prefix dropped), child elements, and its own text. */
export interface XmlNode {
  name: string;
  children: XmlNode[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeText(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : ENTITIES[e]!,
  );
}

/**
 * Parses an XML document into its root element. Enough for EC2 and S3 responses: elements, text,
 * entities, CDATA; attributes, comments, processing instructions and DOCTYPE are skipped.
 * @throws Error on malformed XML (unbalanced or missing tags).
 */
export function parseXml(xml: string): XmlNode {
  const top: XmlNode = { name: '', children: [], text: '' };
  const stack: XmlNode[] = [top];
  const tag = /<(\/?)([A-Za-z_][\w.:-]*)[^>]*?(\/?)>|<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<[?!][^>]*>/g;
  let last = 0;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    const cur = stack[stack.length - 1]!;
    if (m.index > last) cur.text += decodeText(xml.slice(last, m.index));
    last = tag.lastIndex;
    if (m[4] !== undefined) cur.text += m[4];
    if (!m[2]) continue;
    const name = m[2].slice(m[2].indexOf(':') + 1);
    if (m[1]) {
      if (stack.length < 2 || cur.name !== name) throw new Error(`malformed XML: unexpected </${name}>`);
      stack.pop();
    } else {
      const node: XmlNode = { name, children: [], text: '' };
      cur.children.push(node);
      if (!m[3]) stack.push(node);
    }
  }
  const root = top.children[0];
  if (stack.length !== 1 || !root) throw new Error('malformed XML: unclosed element or no root');
  return root;
}

/** The first child element named `name`. */
export function xmlChild(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return node?.children.find((c) => c.name === name);
}

/** Text of the first child named `name`, undefined when absent. */
export function xmlText(node: XmlNode | undefined, name: string): string | undefined {
  return xmlChild(node, name)?.text;
}

/** The `<item>` elements of the list child `name` (EC2's `xxxSet` convention). */
export function xmlItems(node: XmlNode | undefined, name: string): XmlNode[] {
  return xmlChild(node, name)?.children.filter((c) => c.name === 'item') ?? [];
}
