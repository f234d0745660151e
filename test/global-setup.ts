// Filled in by the foundation work: starts DynamoDB Local once for the integration suites.
export default async function setup(): Promise<void> {}
