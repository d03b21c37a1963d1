import { describe, expect, it } from 'vitest';
import { resolveModelLocation } from '../../src/client/location';

describe('resolveModelLocation', () => {
  const page = 'https://shop.example/help/chat.html';

  it('splits a model folder URL into root and id, with ORT beside the models root', () => {
    expect(resolveModelLocation('/models/fenliu-demo/', null, page)).toEqual({
      modelBase: 'https://shop.example/models/',
      modelId: 'fenliu-demo',
      ortBase: 'https://shop.example/ort/',
    });
    expect(resolveModelLocation('assets/m/demo?v=2', undefined, page)).toEqual({
      modelBase: 'https://shop.example/help/assets/m/',
      modelId: 'demo',
      ortBase: 'https://shop.example/help/assets/ort/',
    });
  });

  it('defaults to models/fenliu-demo/ beside the page and honours an explicit ORT folder', () => {
    expect(resolveModelLocation(null, '/static/ort', page)).toEqual({
      modelBase: 'https://shop.example/help/models/',
      modelId: 'fenliu-demo',
      ortBase: 'https://shop.example/static/ort/',
    });
  });

  it('rejects a URL that names no folder', () => {
    expect(() => resolveModelLocation('/', null, page)).toThrow(/names no model folder/);
  });
});
