/** A query nested `depth` fields deep, along the Provider → ModelEndpoint → Provider cycle of the schema. */
export function deepQuery(depth: number): string {
  let selection = 'id';
  for (let level = depth; level >= 2; level--) selection = `${level % 2 === 0 ? 'models' : 'provider'} { ${selection} }`;
  return `query Deep { providers { ${selection} } }`;
}

/** `count` aliases of one cheap field: the shape of an alias bomb. */
export function aliasBomb(count: number): string {
  return `query Aliases { ${Array.from({ length: count }, (_, index) => `a${index}: __typename`).join(' ')} }`;
}

export const NORMAL_QUERY = 'query Normal { model(id: "local/echo") { id name } }';
