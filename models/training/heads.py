"""The heads of the minilm-heads bundle as torch modules, and the module exported as heads.onnx.

Contract of the exported graph (see the project brief):
  inputs  last_hidden_state float32 [B,S,384], attention_mask int64 [B,S]
  outputs sentiment_logits [B,3] (negative, neutral, positive), class_logits [B,4] (World, Sports,
          Business, Sci/Tech), entity_logits [B,S,9] (O, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC,
          B-MISC, I-MISC).
Every output of a real (mask 1) position depends only on the real positions of its own row:
padding is masked before pooling, before every convolution and in attention, so batch composition
and padding length do not change any result beyond float rounding.
"""
import torch
from torch import nn

HIDDEN = 384


class Standardize(nn.Module):
    """x -> (x - mean) / std with constants fitted on the training features."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).clone())
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32).clone())

    def forward(self, x):
        return (x - self.mean) / self.std


class SentenceHead(nn.Module):
    """Pooled sentence vector -> logits: standardisation, then a linear layer or a one-hidden-layer MLP."""

    def __init__(self, mean, std, n_out, hidden=0, dropout=0.1):
        super().__init__()
        self.norm = Standardize(mean, std)
        if hidden > 0:
            self.net = nn.Sequential(nn.Dropout(dropout), nn.Linear(HIDDEN, hidden), nn.GELU(),
                                     nn.Dropout(dropout), nn.Linear(hidden, n_out))
        else:
            self.net = nn.Sequential(nn.Dropout(dropout), nn.Linear(HIDDEN, n_out))

    def forward(self, pooled):
        return self.net(self.norm(pooled))


class MaskedConvBlock(nn.Module):
    """Pre-norm residual 1-D convolution over the sequence; padded positions are zeroed first, so
    they act exactly like the convolution's own zero padding at the sequence end."""

    def __init__(self, dim, kernel, dropout):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.conv = nn.Conv1d(dim, dim, kernel, padding=kernel // 2)
        self.act = nn.GELU()
        self.drop = nn.Dropout(dropout)

    def forward(self, x, maskf):
        y = self.norm(x) * maskf
        y = self.conv(y.transpose(1, 2)).transpose(1, 2)
        return x + self.drop(self.act(y))


class TransformerBlock(nn.Module):
    """Pre-norm self-attention block with a key padding mask (padded keys get -1e9 before softmax,
    whose exp underflows to exactly 0), written out so the ONNX graph stays plain MatMul/Softmax."""

    def __init__(self, dim, heads, ff, dropout):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, ff), nn.GELU(), nn.Linear(ff, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x, maskf):
        b, s, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
        q = q.reshape(b, s, h, d // h).transpose(1, 2)
        k = k.reshape(b, s, h, d // h).transpose(1, 2)
        v = v.reshape(b, s, h, d // h).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / (d // h) ** 0.5)
        scores = scores + (1.0 - maskf.squeeze(-1))[:, None, None, :] * -1e9
        att = torch.softmax(scores, dim=-1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(b, s, d)
        x = x + self.drop(self.proj(y))
        return x + self.drop(self.ff(self.norm2(x)))


class BiLstmBlock(nn.Module):
    """Pre-norm residual bidirectional LSTM. The backward direction runs a forward LSTM over each
    row's real tokens reversed in place (padding stays at the end), so neither direction ever reads
    a padded position before a real one: results do not depend on the padding."""

    def __init__(self, dim, hidden, dropout):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fw = nn.LSTM(dim, hidden, batch_first=True)
        self.bw = nn.LSTM(dim, hidden, batch_first=True)
        self.proj = nn.Linear(2 * hidden, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, maskf):
        y = self.norm(x) * maskf
        lengths = maskf.squeeze(-1).sum(dim=1, keepdim=True).to(torch.int64)  # [B,1]
        pos = torch.arange(x.shape[1], device=x.device).unsqueeze(0)  # [1,S]
        rev = torch.where(pos < lengths, lengths - 1 - pos, pos)  # an involution: reverses the real part
        rev = rev.unsqueeze(-1).expand(-1, -1, y.shape[-1])
        fw, _ = self.fw(y)
        bw, _ = self.bw(torch.gather(y, 1, rev))
        bw = torch.gather(bw, 1, rev[:, :, :bw.shape[-1]])
        return x + self.drop(self.proj(torch.cat([fw, bw], dim=-1)))


class EntityHead(nn.Module):
    """Token vectors -> BIO logits: projection, a few context blocks, linear classifier."""

    def __init__(self, dim=256, blocks=("conv3", "conv3"), heads=4, ff=512, dropout=0.1, n_out=9):
        super().__init__()
        self.inp = nn.Sequential(nn.LayerNorm(HIDDEN), nn.Dropout(dropout), nn.Linear(HIDDEN, dim), nn.GELU())
        layers = []
        for kind in blocks:
            if kind.startswith("conv"):
                layers.append(MaskedConvBlock(dim, int(kind[4:]), dropout))
            elif kind.startswith("lstm"):
                layers.append(BiLstmBlock(dim, int(kind[4:]), dropout))
            elif kind == "attn":
                layers.append(TransformerBlock(dim, heads, ff, dropout))
            else:
                raise ValueError(kind)
        self.blocks = nn.ModuleList(layers)
        self.out = nn.Sequential(nn.LayerNorm(dim), nn.Dropout(dropout), nn.Linear(dim, n_out))

    def forward(self, hidden, maskf):
        x = self.inp(hidden)
        for block in self.blocks:
            x = block(x, maskf)
        return self.out(x)


class Heads(nn.Module):
    """The exported graph: masked-mean pooling feeds the sentence heads, token vectors the entity head."""

    def __init__(self, sentiment, classes, entities):
        super().__init__()
        self.sentiment = sentiment
        self.classes = classes
        self.entities = entities

    def forward(self, last_hidden_state, attention_mask):
        maskf = attention_mask.to(last_hidden_state.dtype).unsqueeze(-1)
        summed = (last_hidden_state * maskf).sum(dim=1)
        count = maskf.sum(dim=1).clamp(min=1e-9)
        pooled = summed / count
        return self.sentiment(pooled), self.classes(pooled), self.entities(last_hidden_state, maskf)
