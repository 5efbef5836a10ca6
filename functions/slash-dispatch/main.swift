import SlashDispatch
import SwitchyardRuntime

FunctionMain.run(SlashDispatch(environment: Environment.process().values))
