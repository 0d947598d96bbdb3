import { describe, expect, it } from 'vitest';
import {
  hostSubresourcePath,
  KubeletRequestError,
  kubeletAuthorizationAttributes,
  parseKubeletRequest,
} from './paths.ts';

const hostPath = (url: string) => hostSubresourcePath(parseKubeletRequest(url), 'vcluster-demo', 'demo');
const pods = '/api/v1/namespaces/vcluster-demo/pods';

describe('parseKubeletRequest', () => {
  it('reads a container log request as the API server sends it', () => {
    const request = parseKubeletRequest('/containerLogs/default/web-1/nginx?follow=true&tailLines=10');
    expect(request).toMatchObject({
      endpoint: 'containerLogs',
      namespace: 'default',
      pod: 'web-1',
      container: 'nginx',
    });
    expect(request.query.get('tailLines')).toBe('10');
  });

  it('reads the form with the pod UID', () => {
    expect(parseKubeletRequest('/exec/default/web-1/0b5f-uid/nginx?command=ls')).toMatchObject({
      endpoint: 'exec',
      uid: '0b5f-uid',
      container: 'nginx',
    });
    expect(parseKubeletRequest('/portForward/default/web-1/0b5f-uid')).toMatchObject({
      endpoint: 'portForward',
      uid: '0b5f-uid',
    });
  });

  it('reads a port-forward request, which names no container', () => {
    const request = parseKubeletRequest('/portForward/shop/web-1');
    expect(request).toMatchObject({ endpoint: 'portForward', namespace: 'shop', pod: 'web-1' });
    expect(request.container).toBeUndefined();
  });

  it.each([
    ['/stats/summary', 404],
    ['/metrics', 404],
    ['/run/default/web-1/nginx', 404],
    ['/exec/default', 400],
    ['/exec/default/web-1', 400],
    ['/containerLogs/default/web-1/', 400],
    ['/exec/default/web-1/a/b/c', 400],
    ['/portForward/default/web-1/uid/extra', 404],
  ])('refuses %s with %i', (url, status) => {
    expect(() => parseKubeletRequest(url)).toThrow(KubeletRequestError);
    try {
      parseKubeletRequest(url);
    } catch (error) {
      expect((error as KubeletRequestError).statusCode).toBe(status);
    }
  });
});

describe('hostSubresourcePath', () => {
  it('sends logs to the host twin’s pods/log with the same options and the container', () => {
    expect(
      hostPath(
        '/containerLogs/default/web-1/nginx?follow=true&timestamps=true&tailLines=5&sinceSeconds=60&limitBytes=9',
      ),
    ).toBe(
      `${pods}/web-1-x-default-x-demo/log?container=nginx&follow=true&timestamps=true&sinceSeconds=60&tailLines=5&limitBytes=9`,
    );
  });

  it('drops log parameters the API does not know', () => {
    expect(hostPath('/containerLogs/default/web-1/nginx?previous=true&evil=1')).toBe(
      `${pods}/web-1-x-default-x-demo/log?container=nginx&previous=true`,
    );
  });

  it('spells kubelet’s exec stream flags as the API’s PodExecOptions, commands in order', () => {
    expect(
      hostPath('/exec/shop/web-1/app?command=sh&command=-c&command=echo+hi&input=1&output=1&error=1&tty=1'),
    ).toBe(
      `${pods}/web-1-x-shop-x-demo/exec?container=app&stdin=true&stdout=true&stderr=true&tty=true&command=sh&command=-c&command=echo+hi`,
    );
  });

  it('leaves out the streams that were not asked for', () => {
    expect(hostPath('/exec/shop/web-1/app?command=ls&output=1')).toBe(
      `${pods}/web-1-x-shop-x-demo/exec?container=app&stdout=true&command=ls`,
    );
  });

  it('sends attach to pods/attach without a command', () => {
    expect(hostPath('/attach/shop/web-1/app?input=1&output=1&command=ignored')).toBe(
      `${pods}/web-1-x-shop-x-demo/attach?container=app&stdin=true&stdout=true`,
    );
  });

  it('sends port-forward to pods/portforward with the ports a WebSocket client names', () => {
    expect(hostPath('/portForward/shop/web-1')).toBe(`${pods}/web-1-x-shop-x-demo/portforward`);
    expect(hostPath('/portForward/shop/web-1?port=80&port=8080')).toBe(
      `${pods}/web-1-x-shop-x-demo/portforward?ports=80&ports=8080`,
    );
  });

  it('uses the shortened host name of a long pod name', () => {
    const long = `${'a'.repeat(60)}-abcde`;
    const path = hostPath(`/containerLogs/default/${long}/c`);
    expect(path).toMatch(new RegExp(`^${pods}/a{52}-[0-9a-f]{10}/log\\?container=c$`));
  });

  it('escapes what it puts in the path', () => {
    expect(hostSubresourcePath(parseKubeletRequest('/portForward/shop/web-1'), 'ns with space', 'demo')).toBe(
      '/api/v1/namespaces/ns%20with%20space/pods/web-1-x-shop-x-demo/portforward',
    );
  });
});

describe('kubeletAuthorizationAttributes', () => {
  it.each([
    ['/containerLogs/default/web-1/nginx', 'get'],
    ['/exec/default/web-1/nginx?command=ls', 'create'],
    ['/attach/default/web-1/nginx', 'create'],
    ['/portForward/default/web-1', 'create'],
  ])('%s needs %s on nodes/proxy', (url, verb) => {
    expect(kubeletAuthorizationAttributes(parseKubeletRequest(url))).toEqual({
      verb,
      resource: 'nodes',
      subresource: 'proxy',
    });
  });
});
