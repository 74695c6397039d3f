// PostGraphile, the peer of taskql's load benchmark (bench/run.sh --peer, docs/PERFORMANCE.md):
// the Amber preset over the tables of the benchmark database's public schema, in production
// settings: no GraphiQL, no watch, no explain; loopback only.
//
//   DATABASE_URL=postgres://…/taskql_bench_100000 PEER_PORT=18092 GRAPHILE_ENV=production \
//     node_modules/.bin/postgraphile -C graphile.config.mjs
//
// The schema is introspected from the database at start (nothing generated is kept in the repo).
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

if (!process.env.DATABASE_URL) {
  throw new Error("graphile.config.mjs: set DATABASE_URL to the benchmark database");
}

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PEER_PORT || 18092),
    graphqlPath: "/graphql",
    graphiql: false,
    graphiqlOnGraphQLGET: false,
    watch: false,
    websockets: false,
  },
  grafast: {
    explain: false,
  },
};

export default preset;
