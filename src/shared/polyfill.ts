// libp2p 3 calls Promise.withResolvers, which Node added in 22. Kimura supports Node 20.19+,
// so every entry point (CLI, workers, tests, benchmarks) imports this module first.
// Delete it, and its imports, once the project requires Node >= 22.
interface Resolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

const PromiseWithResolvers = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> }

if (typeof PromiseWithResolvers.withResolvers !== 'function') {
  PromiseWithResolvers.withResolvers = function withResolvers<T> (): Resolvers<T> {
    let resolve!: Resolvers<T>['resolve']
    let reject!: Resolvers<T>['reject']
    const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

export {}
