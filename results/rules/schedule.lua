-- schedule.lua: growth on a fixed schedule, blind to the scores.
--
-- From epoch START, every EVERY epochs, adds a layer to the next block in
-- turn (block 0, 1, 2, 0, ...) while it is below the layer limit: the
-- baseline a score-driven rule has to beat. Its position in the turn comes
-- from ctx.history, so a resumed run continues it.

local args = ...
local START = args.start or 5
local EVERY = args.every or 10
local MAX_LAYERS = args.max_layers or 10

return {
  name = "schedule",
  limits = { layers_per_block = MAX_LAYERS },
  when = function(ctx) return ctx.epoch >= START and (ctx.epoch - START) % EVERY == 0 end,
  propose = function(ctx)
    local blocks = ctx.model.blocks
    for turn = 0, #blocks - 1 do
      local b = blocks[(#ctx.history + turn) % #blocks + 1]
      if b.layers < MAX_LAYERS then return { { block = b.block, op = "layer" } } end
    end
    return {}
  end,
  decide = function(ctx) return ctx.candidates[1] end,
}
