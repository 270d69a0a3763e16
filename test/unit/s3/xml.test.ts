import test from 'ava';
import fc from 'fast-check';
import { S3Error } from '../../../src/s3/errors.js';
import { escapeXml, hasXmlIllegalChars, parseXml, XML_PROLOG, xmlElement } from '../../../src/s3/xml.js';

test('escapeXml: markup characters, CR, and nothing else in ordinary text', (t) => {
  t.is(escapeXml('plain/key ünï 日本 🎉'), 'plain/key ünï 日本 🎉');
  t.is(escapeXml(`a&b<c>"d'e`), 'a&amp;b&lt;c&gt;&quot;d&apos;e');
  t.is(escapeXml('line\r\nnext\ttab'), 'line&#13;\nnext\ttab');
});

test('escapeXml: characters XML 1.0 forbids become references, lone surrogates U+FFFD', (t) => {
  t.is(escapeXml('a\u0001b\u001fc\u0000'), 'a&#x1;b&#x1F;c&#x0;');
  t.is(escapeXml('\ufffe\uffff'), '&#xFFFE;&#xFFFF;');
  t.is(escapeXml('x\ud800y\udc00'), 'x\ufffdy\ufffd');
  t.true(hasXmlIllegalChars('a\u0001'));
  t.true(hasXmlIllegalChars('\ud800'));
  t.false(hasXmlIllegalChars('🎉\t\n\r'));
});

test('escaped text parses back to the original (XML-legal strings)', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (s) => {
      fc.pre(!hasXmlIllegalChars(s));
      t.is(parseXml(`<K>${escapeXml(s)}</K>`).text, s);
    }),
    { numRuns: 500 },
  );
});

test('xmlElement drops undefined values and escapes strings', (t) => {
  t.is(xmlElement('Key', 'a<b'), '<Key>a&lt;b</Key>');
  t.is(xmlElement('Size', 12), '<Size>12</Size>');
  t.is(xmlElement('IsTruncated', false), '<IsTruncated>false</IsTruncated>');
  t.is(xmlElement('ETag', undefined), '');
});

const DELETE_KEYS = ['  lead and trail  ', '007', '1e3', 'true', '0x10', '-0', `a&b<c>"d'`, 'ünï/ä'];

test('text is kept verbatim: no trimming, no number coercion, entities and char refs decoded', (t) => {
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>` +
    DELETE_KEYS.map((k) => `<Object><Key>${escapeXml(k)}</Key></Object>`).join('') +
    '<Object><Key>&#x41;&#66;&amp;&#34;</Key><VersionId>v</VersionId></Object></Delete>';
  const root = parseXml(Buffer.from(body));
  t.is(root.name, 'Delete');
  t.is(root.textOf('Quiet'), 'true');
  const keys = root.childrenNamed('Object').map((o) => o.textOf('Key'));
  t.deepEqual(keys, [...DELETE_KEYS, 'AB&"']);
  t.is(root.childrenNamed('Object')[8].textOf('VersionId'), 'v');
  t.is(root.child('Nope'), undefined);
  t.is(root.textOf('Nope'), undefined);
});

test('CompleteMultipartUpload bodies as the real clients send them', (t) => {
  const variants = [
    // SDK / awscli: namespace, &quot;
    '<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>&quot;abc&quot;</ETag><ChecksumCRC32>3mcPhg==</ChecksumCRC32><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>',
    // rclone (Go): &#34;
    '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><PartNumber>1</PartNumber><ETag>&#34;abc&#34;</ETag></Part></CompleteMultipartUpload>',
    // botocore: no prolog, raw quotes
    '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>"abc"</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>',
    // s3cmd: no namespace, unquoted
    '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>abc</ETag></Part></CompleteMultipartUpload>',
    // prefixed namespace, CDATA, comments, whitespace
    '<s3:CompleteMultipartUpload xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/">\n  <!-- c --><s3:Part>\n    <s3:PartNumber>1</s3:PartNumber><s3:ETag><![CDATA["abc"]]></s3:ETag></s3:Part>\n</s3:CompleteMultipartUpload>',
  ];
  for (const body of variants) {
    const root = parseXml(body);
    t.is(root.name, 'CompleteMultipartUpload');
    const [part] = root.childrenNamed('Part');
    t.is(part.textOf('PartNumber'), '1');
    t.is(part.textOf('ETag')?.replace(/"/g, ''), 'abc', body);
  }
});

test('a 10,000-part CompleteMultipartUpload parses whole, every part in order (bench/s3 times it)', (t) => {
  for (const checksums of [false, true]) {
    const etag = (i: number) => (i * 7919).toString(16).padStart(32, '0');
    const parts = Array.from(
      { length: 10_000 },
      (_, i) =>
        `<Part><ETag>&quot;${etag(i)}&quot;</ETag>${checksums ? '<ChecksumCRC32>3mcPhg==</ChecksumCRC32>' : ''}<PartNumber>${i + 1}</PartNumber></Part>`,
    ).join('');
    const body = Buffer.from(`${XML_PROLOG}<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts}</CompleteMultipartUpload>`);
    const root = parseXml(body);
    t.is(root.children.length, 10_000);
    const wrong = root.children.findIndex(
      (p, i) =>
        p.name !== 'Part' ||
        p.textOf('PartNumber') !== String(i + 1) ||
        p.textOf('ETag') !== `"${etag(i)}"` ||
        p.textOf('ChecksumCRC32') !== (checksums ? '3mcPhg==' : undefined),
    );
    t.is(wrong, -1, `part ${wrong + 1}`);
  }
});

function rejects(t: import('ava').ExecutionContext, body: string | Buffer, opts?: Parameters<typeof parseXml>[1]) {
  const err = t.throws(() => parseXml(body, opts), { instanceOf: S3Error });
  t.is(err?.code, 'MalformedXML');
  t.is(err?.status, 400);
}

test('malformed, hostile or oversized bodies are MalformedXML', (t) => {
  rejects(t, '');
  rejects(t, '   ');
  rejects(t, 'not xml');
  rejects(t, '<a><b></a>');
  rejects(t, '<a>unclosed');
  rejects(t, '<a/><b/>');
  rejects(t, '<a>&nbsp;</a>');
  rejects(t, '<a>&#1;</a>');
  rejects(t, '<a>x</a>trailing');
  rejects(t, '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>');
  rejects(t, '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><lolz>&lol2;</lolz>');
  rejects(t, '<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>');
  rejects(t, Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x61, 0x3e])); // invalid UTF-8
  rejects(t, `<a>${'x'.repeat(100)}</a>`, { maxBytes: 50 });
  rejects(t, `${'<a>'.repeat(40)}${'</a>'.repeat(40)}`);
  t.is(parseXml(`${'<a>'.repeat(40)}x${'</a>'.repeat(40)}`, { maxDepth: 40 }).name, 'a');
});

test('a UTF-8 BOM is skipped', (t) => {
  t.is(parseXml(Buffer.from('\ufeff<Tagging><TagSet/></Tagging>')).name, 'Tagging');
  t.is(parseXml('\ufeff<Tagging/>').name, 'Tagging');
});
