-- random.lua: the control for "do the scores choose better than chance?".
--
-- Grows at the epochs another run grew at (--rule-arg epochs=6,16,26, as
-- listed in that run's events.jsonl), each time by a candidate drawn at
-- random from the same candidate set paper.lua proposes (a layer on any
-- block below the layer limit, or paper.lua's widening of any block; with
-- --rule-arg widen_fraction=F, budget.lua's widening by a fraction F of the
-- block's channels, the control for budget.lua runs). The
-- core still scores the candidates, so events.jsonl shows what the score
-- would have picked. The draw depends only on --rule-arg seed and the epoch,
-- so a resumed run draws the same.
--
-- A uniform draw often picks a cheaper or dearer candidate than the scored
-- run did, and the two runs then end at different sizes. With --rule-arg
-- sizes=D1,D2,... (the parameters each of that run's expansions added, in
-- order) the k-th expansion draws only among the candidates that add
-- between half and twice D_k (the nearest one if none does): the same
-- growth in size, at a place chosen by chance.

local args = ...
local SEED = args.seed or 0
assert(math.type(SEED) == "integer", "--rule-arg seed: expected an integer")
local EPOCHS = {}
for epoch in tostring(args.epochs or ""):gmatch("%d+") do EPOCHS[tonumber(epoch)] = true end
assert(next(EPOCHS) ~= nil, "--rule-arg epochs=E1,E2,...: the epochs to grow at")
local SIZES = {}
for size in tostring(args.sizes or ""):gmatch("%d+") do SIZES[#SIZES + 1] = tonumber(size) end
local WIDEN_FRACTION = args.widen_fraction
assert(WIDEN_FRACTION == nil or type(WIDEN_FRACTION) == "number", "--rule-arg widen_fraction: expected a number")

-- The channels a widening of a block of `channels` adds: paper.lua's 2 (4 from
-- 32 channels), or budget.lua's even share of at least 2.
local function widening(channels)
  if WIDEN_FRACTION == nil then return channels < 32 and 2 or 4 end
  return math.max(2, 2 * math.floor(channels * WIDEN_FRACTION / 2 + 0.5))
end

-- A small integer hash of (seed, epoch): the same draw after a resume.
local function draw(epoch, count)
  local h = (SEED * 1000003 + epoch * 7919 + 12345) % 2147483647
  for _ = 1, 3 do h = (h * 48271) % 2147483647 end
  return h % count + 1
end

return {
  name = "random",
  limits = { layers_per_block = 10 },
  when = function(ctx) return EPOCHS[ctx.epoch] == true end,
  propose = function(ctx)
    local candidates = {}
    for _, b in ipairs(ctx.model.blocks) do
      if b.layers < 10 then candidates[#candidates + 1] = { block = b.block, op = "layer" } end
      candidates[#candidates + 1] = { block = b.block, op = "widen", channels = widening(b.channels) }
    end
    return candidates
  end,
  decide = function(ctx)
    local pool = ctx.candidates
    local target = SIZES[#ctx.history + 1]
    if target then
      pool = {}
      local nearest, distance = nil, math.huge
      for _, c in ipairs(ctx.candidates) do
        if c.delta_params >= target / 2 and c.delta_params <= target * 2 then pool[#pool + 1] = c end
        local d = math.abs(math.log(math.max(c.delta_params, 1) / target))
        if d < distance then nearest, distance = c, d end
      end
      if #pool == 0 then pool = { nearest } end
    end
    if #pool == 0 then return nil end
    return pool[draw(ctx.epoch, #pool)]
  end,
}
