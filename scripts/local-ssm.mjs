// A loopback stand-in for AWS Systems Manager Parameter Store, for `npm start` only: it answers
// GetParameter(s) (AWS JSON 1.1, the wire protocol the SDK speaks) from a fixed map, so the
// handlers read their local secrets through the same code path as in a deployment. It listens
// on 127.0.0.1 and knows only the names it was given.
import { createServer } from 'node:http';

/** Starts the stand-in; `params` maps parameter names to values. Resolves with its URL and close(). */
export async function startLocalSsm(params, port = 0) {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        body = {};
      }
      const send = (status, json) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(json));
      };
      const param = (name) => ({
        Name: name,
        Type: 'SecureString',
        Value: params[name],
        Version: 1,
        ARN: `arn:aws:ssm:us-east-1:000000000000:parameter${name}`,
      });
      if (target === 'AmazonSSM.GetParameter') {
        if (!(body.Name in params)) return send(400, { __type: 'ParameterNotFound', message: `no parameter ${body.Name}` });
        return send(200, { Parameter: param(body.Name) });
      }
      if (target === 'AmazonSSM.GetParameters') {
        const names = Array.isArray(body.Names) ? body.Names : [];
        return send(200, { Parameters: names.filter((n) => n in params).map(param), InvalidParameters: names.filter((n) => !(n in params)) });
      }
      return send(400, { __type: 'UnknownOperationException', message: `the local stand-in answers only GetParameter(s), not ${target}` });
    });
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}
